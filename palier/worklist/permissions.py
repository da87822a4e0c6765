"""Who may see and change tasks and scheduled follow-ups: the one rule source of the worklist.

* Tasks are internal: only desk staff who may read a ticket's internal notes see them; requesters
  never (not even an agent who is only the ticket's requester).
* Desk staff who may update a ticket add, change and cancel its tasks, and schedule replies and
  reminders on it.
* A scheduled reply or reminder is its author's: only they (or an administrator) cancel it.
* Task templates are administrators' business.
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people import permissions as people_permissions
from palier.people.models import User
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Ticket
from palier.worklist.models import ScheduledAction

Action = Literal["view", "edit", "schedule"]


def _staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_agent)


def can(user: User, action: Action, ticket: Ticket, *, seen: bool | None = None) -> bool:
    """May ``user`` see (``view``), add or change (``edit``) the tasks of ``ticket``, or schedule
    a reply or reminder on it (``schedule``)?"""
    if not _staff(user):
        return False
    if action == "view":
        return ticket_permissions.can(user, "view_internal", ticket, seen=seen)
    return ticket_permissions.can(user, "update", ticket, seen=seen)


def require(user: User, action: Action, ticket: Ticket) -> None:
    if not can(user, action, ticket):
        if action == "schedule":
            raise PermissionDenied(_("You cannot schedule a follow-up on this ticket."))
        raise PermissionDenied(_("You cannot change the tasks of this ticket."))


def can_cancel(user: User, scheduled: ScheduledAction) -> bool:
    if not _staff(user):
        return False
    return scheduled.author_id == user.pk or people_permissions.is_admin(user)


def require_cancel(user: User, scheduled: ScheduledAction) -> None:
    if not can_cancel(user, scheduled):
        raise PermissionDenied(_("Only the person who scheduled it can cancel it."))


def can_manage_templates(user: User | None) -> bool:
    return people_permissions.is_admin(user)


def require_manage_templates(by: User | None) -> None:
    people_permissions.require_admin(by, message=_("Only administrators can manage task templates."))
