"""The one place that decides who may see and do what with tickets.

``visible(user)`` is the queryset filter that every list, search, export, attachment download,
detail page and API endpoint goes through; ``can(user, action, ticket)`` answers single actions.
A ticket someone may not see answers 404, never 403.

An agent works on a ticket as desk staff only through the desk: its group, its assignment, or
managing its group. An agent whose only link to a ticket is being its requester (an HR or
security case about them) gets the requester rules on it: no internal notes, no agent actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people import permissions as people_permissions
from palier.people import selectors as people_selectors
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
        return _staff_links(user) | Q(requester_id=user.pk)
    mine = Q(requester_id=user.pk)
    watching = Q(Exists(Ticket.watchers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)))
    if user.organisation_id and user.organisation and user.organisation.share_tickets:
        return mine | watching | Q(organisation_id=user.organisation_id)
    return mine | watching


def _staff_links(user: User) -> Q:
    """A filter on Ticket: the tickets ``user`` is linked to as desk staff (not as requester)."""
    my_groups = Membership.objects.filter(user_id=user.pk).values("group_id")
    managed = Q(group__manager_id=user.pk) if user.role == User.Role.MANAGER else Q(pk__in=[])
    return Q(group_id__in=my_groups) | Q(assignee_id=user.pk) | managed


def works_on(user: User, ticket: Ticket) -> bool:
    """Does ``user`` act on ``ticket`` as desk staff? Administrators and Palier's own system
    accounts (a monitoring integration opens its incidents in its own name, then notes on them)
    always; agents unless their only link to it is being its requester (then the requester rules
    apply)."""
    if not user.is_authenticated or not user.is_active or not user.is_agent:
        return False
    if user.is_admin or user.is_system or ticket.requester_id != user.pk:
        return True
    if ticket.assignee_id == user.pk or (
        ticket.group_id is not None and ticket.group_id in people_selectors.group_ids_of(user)
    ):
        return True
    if user.role == User.Role.MANAGER and ticket.group_id is not None:
        return ticket.group is not None and ticket.group.manager_id == user.pk
    return False


def own_requests(user: User) -> Q | None:
    """A filter on Ticket: the tickets the agent ``user`` sees only as their requester (their
    internal notes must not count in that agent's searches); None for everyone else."""
    if not user.is_authenticated or not user.is_agent or user.is_admin or user.is_system:
        return None
    return Q(requester_id=user.pk) & ~_staff_links(user)


def can_see(user: User, ticket: Ticket) -> bool:
    return Ticket.objects.filter(visible(user), pk=ticket.pk).exists()


def can(user: User, action: Action, ticket: Ticket, *, seen: bool | None = None) -> bool:
    """May ``user`` do ``action`` on ``ticket``? ``seen`` skips the visibility query when known."""
    if not (seen if seen is not None else can_see(user, ticket)):
        return False
    if action == "view":
        return True
    if works_on(user, ticket):
        return True
    # requesters (and agents on their own requests): never internal content, never field edits
    if action in {"note", "update", "view_internal", "link"}:
        return False
    if action in {"comment", "attach"}:
        return ticket.status not in (Ticket.Status.CLOSED, Ticket.Status.CANCELLED)
    if action == "transition":
        return ticket.requester_id == user.pk
    return action == "watch"


# what a requester chooses when opening a ticket; the rest (requester, group, assignee, tags,
# channel) is the desk's, as routing and automation rules match on it
REQUESTER_FIELDS = frozenset({"subject", "description", "kind", "category", "impact", "urgency"})


def check_fields(user: User, fields: Iterable[str], *, ticket: Ticket | None = None) -> None:
    """Refuse (``PermissionDenied`` naming the field) the first of ``fields`` that ``user`` may not
    set: opening a ticket (``ticket`` None) or changing ``ticket``. Desk staff set every field; a
    requester chooses only ``REQUESTER_FIELDS`` when opening and changes no field afterwards."""
    if ticket is None:
        allowed = None if user.is_agent else REQUESTER_FIELDS
    else:
        allowed = None if works_on(user, ticket) else frozenset()
    if allowed is None:
        return
    for name in sorted(set(fields) - allowed):
        raise PermissionDenied(_("Only the service desk can set “%(field)s”.") % {"field": name}, field=name)


def require_admin_for(by: User | None, what: Literal["priority_matrix", "categories"]) -> None:
    """Reference data (the priority matrix, categories) is changed by administrators only."""
    messages = {
        "priority_matrix": _("Only administrators can edit the priority matrix."),
        "categories": _("Only administrators can manage categories."),
    }
    people_permissions.require_admin(by, message=messages[what])
