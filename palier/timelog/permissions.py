"""Who may log, see, change time and manage cost rates: the one rule source of time tracking.

* Any active agent who may update a ticket logs time on it; requesters never (time is internal).
* Agents who may see a ticket see its time entries.
* The author of an entry edits or deletes it during ``PALIER_TIME_EDIT_HOURS`` after logging it;
  administrators always may.
* Cost rates are administrators' business.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people import permissions as people_permissions
from palier.people.models import User
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Ticket
from palier.timelog.models import TimeEntry

Action = Literal["log", "view"]


def _active_agent(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_agent)


def can(user: User, action: Action, ticket: Ticket, *, seen: bool | None = None) -> bool:
    """May ``user`` log time on (``log``) or read the time of (``view``) ``ticket``?"""
    if not _active_agent(user):
        return False
    if action == "log":
        return ticket_permissions.can(user, "update", ticket, seen=seen)
    return ticket_permissions.can(user, "view_internal", ticket, seen=seen)


def edit_deadline(entry: TimeEntry) -> datetime:
    """Until when the author may still change or delete ``entry``."""
    return entry.created_at + timedelta(hours=settings.PALIER_TIME_EDIT_HOURS)


def can_change(user: User, entry: TimeEntry, *, now: datetime | None = None) -> bool:
    """May ``user`` edit or delete ``entry``? (No query: the ticket's visibility is the caller's.)"""
    if not _active_agent(user):
        return False
    if people_permissions.is_admin(user):
        return True
    return entry.author_id == user.pk and (now or timezone.now()) < edit_deadline(entry)


def require_change(user: User, entry: TimeEntry) -> None:
    if not _active_agent(user) or (entry.author_id != user.pk and not people_permissions.is_admin(user)):
        raise PermissionDenied(_("Only the person who logged this time can change it."))
    if not can_change(user, entry):
        raise PermissionDenied(
            _("Logged time can be changed for %(hours)d hours only; ask an administrator.")
            % {"hours": settings.PALIER_TIME_EDIT_HOURS}
        )


def require_log(user: User, ticket: Ticket) -> None:
    if not can(user, "log", ticket):
        raise PermissionDenied(_("You cannot log time on this ticket."))


def can_manage_rates(user: User | None) -> bool:
    return people_permissions.is_admin(user)


def require_manage_rates(by: User | None) -> None:
    people_permissions.require_admin(by, message=_("Only administrators can set cost rates."))
