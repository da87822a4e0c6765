"""Time tracking: a ticket's time entries (list, log) and one entry (edit, delete).

Agents who may see a ticket read its time; logging needs the right to update it; an entry is
changed by its author within ``PALIER_TIME_EDIT_HOURS`` (administrators always). Thin handlers
over ``palier.timelog``; refusals are problem+json like every error of the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from palier.api.auth import current_user
from palier.api.schemas.common import Input, UserRef
from palier.lib.errors import PermissionDenied
from palier.tickets import selectors as ticket_selectors
from palier.timelog import permissions, selectors, services
from palier.timelog.models import MAX_MINUTES, TimeEntry

router = Router()


class TimeEntryOut(Schema):
    id: int
    ticket: int = Field(description="The ticket's id.")
    author: UserRef
    minutes: int
    work_date: date = Field(description="The day the work was done.")
    note: str
    source: str = Field(description="reply, note, timer or manual.")
    comment: int | None = Field(description="The reply or note it was logged with, if any.")
    created_at: datetime
    editable_until: datetime = Field(description="Until when the author may change or delete it.")

    @staticmethod
    def resolve_ticket(obj: TimeEntry) -> int:
        return obj.ticket_id

    @staticmethod
    def resolve_comment(obj: TimeEntry) -> int | None:
        return obj.comment_id

    @staticmethod
    def resolve_editable_until(obj: TimeEntry) -> datetime:
        return permissions.edit_deadline(obj)


class TicketTimeOut(Schema):
    total_minutes: int
    entries: list[TimeEntryOut]


class TimeEntryIn(Input):
    minutes: int = Field(description=f"1 to {MAX_MINUTES}; at most {MAX_MINUTES} per person and day in total.")
    work_date: date | None = Field(None, strict=False, description="YYYY-MM-DD, not in the future; default today.")
    note: str = Field("", max_length=500)


class TimeEntryChange(Input):
    minutes: int = Field(description=f"1 to {MAX_MINUTES}.")
    note: str = Field("", max_length=500)


@router.get("/tickets/{int:ticket_id}/time", response=TicketTimeOut)
def ticket_time(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """The time logged on a ticket, oldest day first, with the total (agents only)."""
    user = current_user(request)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    if not permissions.can(user, "view", ticket, seen=True):
        raise PermissionDenied(_("Only agents see the time logged on a ticket."))
    entries = selectors.ticket_entries(user, ticket)
    return {"total_minutes": sum(e.minutes for e in entries), "entries": entries}


@router.post("/tickets/{int:ticket_id}/time", response={201: TimeEntryOut})
def log_time(request: HttpRequest, ticket_id: int, payload: TimeEntryIn) -> Status[Any]:
    """Log minutes of work on a ticket (source "manual"); it appears in the ticket's history."""
    user = current_user(request)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    entry = services.log_time(ticket, by=user, minutes=payload.minutes, work_date=payload.work_date, note=payload.note)
    return Status(201, selectors.get_entry_for(user, entry.pk))


@router.patch("/time/{int:entry_id}", response=TimeEntryOut)
def edit_entry(request: HttpRequest, entry_id: int, payload: TimeEntryChange) -> TimeEntry:
    """Change the minutes and note of an entry (its author within the edit window, or an admin)."""
    user = current_user(request)
    entry = selectors.get_entry_for(user, entry_id)
    services.edit_time_entry(entry, by=user, minutes=payload.minutes, note=payload.note)
    return selectors.get_entry_for(user, entry_id)


@router.delete("/time/{int:entry_id}", response={204: None})
def delete_entry(request: HttpRequest, entry_id: int) -> Status[Any]:
    """Delete an entry (its author within the edit window, or an admin); the history keeps it."""
    user = current_user(request)
    services.delete_time_entry(selectors.get_entry_for(user, entry_id), by=user)
    return Status(204, None)
