"""Who sees survey answers: agents see the answers of the tickets they may see (managers and
admins, then, those of their groups or all); a requester sees only their own."""

from __future__ import annotations

from django.db.models import Q

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
