"""Who sees survey answers: agents see the answers of the tickets they may see (managers and
admins, then, those of their groups or all); a requester sees only their own. Administrators
alone choose which organisations are never asked for a rating."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q
from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Ticket


def visible(user: User) -> Q:
    """A filter on SurveyResponse."""
    if not (user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    if user.is_agent:
        return Q(ticket__in=Ticket.objects.filter(ticket_permissions.visible(user)).values("pk"))
    return Q(requester_id=user.pk)


def can_view_reports(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_agent)


Action = Literal["manage_opt_outs"]


def can(user: User, action: Action, obj: object = None) -> bool:
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    people_permissions.require_admin(by, message=_("Only administrators change who is asked for a rating."))
