"""The one place that decides who may see and do what with tickets.

``visible(user)`` is the queryset filter that every list, search, export, attachment download,
detail page and API endpoint goes through; ``can(user, action, ticket)`` answers single actions.
A ticket someone may not see answers 404, never 403.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import Membership, User
from palier.tickets.models import Ticket

Action = Literal["view", "comment", "note", "update", "transition", "attach", "view_internal", "link", "watch"]


def visible(user: User) -> Q:
    """A filter on Ticket selecting what ``user`` may see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    if user.is_agent:
        if settings.PALIER_AGENTS_SEE_ALL:
            return Q()
        my_groups = Membership.objects.filter(user_id=user.pk).values("group_id")
        managed = Q(group__manager_id=user.pk) if user.role == User.Role.MANAGER else Q(pk__in=[])
        return Q(group_id__in=my_groups) | Q(assignee_id=user.pk) | Q(requester_id=user.pk) | managed
    mine = Q(requester_id=user.pk)
    watching = Q(Exists(Ticket.watchers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)))
    if user.organisation_id and user.organisation and user.organisation.share_tickets:
        return mine | watching | Q(organisation_id=user.organisation_id)
    return mine | watching


def can_see(user: User, ticket: Ticket) -> bool:
    return Ticket.objects.filter(visible(user), pk=ticket.pk).exists()


def can(user: User, action: Action, ticket: Ticket, *, seen: bool | None = None) -> bool:
    """May ``user`` do ``action`` on ``ticket``? ``seen`` skips the visibility query when known."""
    if not (seen if seen is not None else can_see(user, ticket)):
        return False
    if action == "view":
        return True
    if user.is_agent:
        return True
    # requesters: never internal content, never field edits
    if action in {"note", "update", "view_internal", "link"}:
        return False
    if action in {"comment", "attach"}:
        return ticket.status not in (Ticket.Status.CLOSED, Ticket.Status.CANCELLED)
    if action == "transition":
        return ticket.requester_id == user.pk
    return action == "watch"


def require_admin_for(by: User | None, what: Literal["priority_matrix", "categories"]) -> None:
    """Reference data (the priority matrix, categories) is changed by administrators only."""
    messages = {
        "priority_matrix": _("Only administrators can edit the priority matrix."),
        "categories": _("Only administrators can manage categories."),
    }
    people_permissions.require_admin(by, message=messages[what])
