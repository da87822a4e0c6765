"""Append-only ticket history. Services call ``record`` inside their transaction."""

from __future__ import annotations

from typing import Any

from palier.people.models import User
from palier.tickets import stream
from palier.tickets.models import Ticket, TicketEvent


def record(ticket: Ticket, kind: str, *, by: User | None, internal: bool = False, **data: Any) -> TicketEvent:
    """Append one event. ``internal`` events are hidden from requesters."""
    event = TicketEvent.objects.create(ticket=ticket, kind=kind, actor=by, is_internal=internal, data=data)
    stream.events_recorded()
    return event


def build(ticket: Ticket, kind: str, *, by: User | None, internal: bool = False, **data: Any) -> TicketEvent:
    """An unsaved event, for ``record_many``."""
    return TicketEvent(ticket=ticket, kind=kind, actor=by, is_internal=internal, data=data)


def record_many(events: list[TicketEvent]) -> list[TicketEvent]:
    """Append several events in one statement (in list order)."""
    if not events:
        return events
    saved = TicketEvent.objects.bulk_create(events)
    stream.events_recorded()
    return saved
