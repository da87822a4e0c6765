"""Append-only ticket history. Services call ``record`` inside their transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from palier.lib import copyinsert
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
    saved = copyinsert.insert_new(events)
    stream.events_recorded()
    return saved


# PostgreSQL: the rows travel as arrays and RETURNING says exactly which keys this call inserted
_ONCE_SQL = """
INSERT INTO tickets_ticketevent (ticket_id, kind, actor_id, is_internal, data, created_at, key)
SELECT e.ticket_id, e.kind, NULL, e.is_internal, e.data, e.created_at, e.key
FROM unnest(%(tickets)s::bigint[], %(kinds)s::text[], %(internal)s::boolean[], %(data)s::jsonb[],
            %(at)s::timestamptz[], %(keys)s::text[]) AS e(ticket_id, kind, is_internal, data, created_at, key)
ON CONFLICT DO NOTHING
RETURNING key
"""


def record_once(events: Sequence[TicketEvent], *, at: datetime) -> set[str]:
    """Append the events whose ``key`` is not in the history yet, by Palier itself (no actor), and
    return the keys this call inserted. A key already there (an earlier call, another worker at the
    same moment) is skipped: the unique ``key`` makes "do this once" a plain insert. Every event
    must carry a ``key``; ``at`` is their time. One statement on PostgreSQL, two elsewhere."""
    if not events:
        return set()
    keys = [event.key for event in events]
    if any(not key for key in keys):
        raise ValueError("record_once needs a key on every event")
    if connection.vendor == "postgresql":
        params: dict[str, Any] = {
            "tickets": [e.ticket_id for e in events],
            "kinds": [e.kind for e in events],
            "internal": [e.is_internal for e in events],
            "data": [json.dumps(e.data) for e in events],
            "at": [at] * len(events),
            "keys": keys,
        }
        with connection.cursor() as cursor:
            cursor.execute(_ONCE_SQL, params)
            inserted = {key for (key,) in cursor.fetchall()}
    else:
        existing = set(TicketEvent.objects.filter(key__in=keys).values_list("key", flat=True))
        fresh = [e for e in events if e.key not in existing]
        for event in fresh:
            event.created_at, event.actor = at, None
        # the unique key is the last word if another writer raced this one
        TicketEvent.objects.bulk_create(fresh, ignore_conflicts=True)
        inserted = {str(e.key) for e in fresh}
    if inserted:
        stream.events_recorded()
    return inserted
