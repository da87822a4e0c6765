"""The ticket event stream, read in order by background consumers (email notifications,
automation rules…), at least once and never lost.

Every ticket change is a ``TicketEvent`` row (``palier.tickets.history.record``), written in the
change's transaction. Consumers are listed in ``palier/events.py`` (``STREAM_CONSUMERS``), whose
``wire()`` subscribes each one::

    stream.subscribe("notifications", handle_events)

``handle_events(events)`` receives a batch of committed events in id order (``ticket`` and
``actor`` loaded). It must be idempotent per event (a batch can be delivered again after a crash)
and should not raise for one bad event: log it, record the failure and go on. A handler that
raises keeps its cursor where it was, so the whole batch is retried on the next pump.

Delivery: each consumer has a ``StreamCursor`` (the last event id it handled). When a transaction
that recorded events commits, one ``pump`` job is queued (a ``StreamSignal`` row coalesces many
commits into one job) and the scheduler pumps every few seconds as a safety net. On PostgreSQL,
ids are handed out before commit, so a later id can commit before an earlier one: a consumer stops
at a gap in the ids and waits for it to fill until no transaction that could hold it can still
commit (``_may_skip``: no other transaction of the database writing, or every transaction running
when the gap was first seen ended); then the id was rolled back and will never appear. However
long a transaction stays open, its events are delivered when it commits. SQLite has one writer at
a time and gives a new row the next id above the committed ones, so its gaps are rollbacks only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from palier.tickets.models import StreamCursor, StreamSignal, TicketEvent

log = logging.getLogger(__name__)

Handler = Callable[[list[TicketEvent]], None]

BATCH = 500

_handlers: dict[str, Handler] = {}


def subscribe(name: str, handler: Handler) -> None:
    """Register a consumer (subscribing the same name again replaces its handler)."""
    _handlers[name] = handler


def consumers() -> list[str]:
    return sorted(_handlers)


def events_recorded() -> None:
    """Called by ``history.record``: queue one pump job once the transaction commits."""
    if not _handlers:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is _nudge for entry in connection.run_on_commit):
        return  # this transaction already asked for a pump
    # robust: the change is committed whatever happens here (the 10 s safety net pumps anyway);
    # a failing nudge must not make its caller believe the change failed
    transaction.on_commit(_nudge, robust=True)


def _nudge() -> None:
    # A pump clears ``pending`` before it reads, so "pending" means a pump that has not started yet
    # will see this commit: a read (no write, no fsync) is enough for most commits under load.
    pending = StreamSignal.objects.filter(pk=1).values_list("pending", flat=True).first()
    if pending:
        return
    if pending is None:  # the row is missing (a flushed test database)
        queue = StreamSignal.objects.get_or_create(pk=1, defaults={"pending": True})[1]
    else:
        queue = bool(StreamSignal.objects.filter(pk=1, pending=False).update(pending=True, updated_at=timezone.now()))
    if queue:
        from palier.tickets.tasks import pump_stream_task

        try:
            pump_stream_task.enqueue()
        except Exception:  # the queue is down: the scheduler's periodic pump catches up
            log.exception("could not queue the event stream pump")
            StreamSignal.objects.filter(pk=1).update(pending=False)


@dataclass
class _Writers:
    """PostgreSQL, read after the events: the ids of the other transactions of this database that
    are writing (64-bit). A transaction holding a missing id began before the event after it
    committed, so it is among them if it is still running."""

    running: list[int]

    @classmethod
    def now(cls) -> _Writers:
        with transaction.get_connection().cursor() as cursor:
            cursor.execute(
                "SELECT pg_current_xact_id()::text::bigint, array(SELECT backend_xid::text::bigint"
                " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_xid IS NOT NULL)"
            )
            own, running = cursor.fetchone()
        # backend_xid has 32 bits: a running id is within 2**31 of ours, which gives its epoch
        return cls(running=[own + ((xid - own + (1 << 31)) % (1 << 32)) - (1 << 31) for xid in running])

    @property
    def bound(self) -> int:
        """Above the id of every transaction running now (those that begin later get higher ids)."""
        return max(self.running) + 1


def _may_skip(cursor: StreamCursor, event: TicketEvent, writers: _Writers | None) -> bool:
    """Whether the ids missing before ``event`` can never be committed any more.

    SQLite: always (one writer at a time: a running write holds the write lock, and its ids are
    above every committed id, so a missing id was rolled back). PostgreSQL hands out ids before
    commit: the missing id belongs to a transaction that began before ``event`` committed. It may
    be skipped when no other transaction of this database is writing, or when every transaction
    that was running when this gap was first seen (``cursor.gap_xmax``) has ended, whatever began
    since. Time alone decides nothing: a transaction open for an hour still gets its events in.
    """
    if writers is None:
        return True
    if not writers.running:
        return True
    seen = cursor.gap_xmax is not None and event.pk <= (cursor.gap_seen_upto or 0)
    return seen and min(writers.running) >= (cursor.gap_xmax or 0)


def _contiguous(events: list[TicketEvent], cursor: StreamCursor) -> list[TicketEvent]:
    """The events up to the first gap in ids that may still fill (a transaction not yet committed).

    When it stops at a gap it notes on ``cursor`` (saved by the caller) what it saw, once per gap."""
    ready: list[TicketEvent] = []
    expected = cursor.position + 1
    postgres = transaction.get_connection().vendor == "postgresql"
    writers: _Writers | None = None
    for event in events:
        if event.pk != expected:
            if postgres and writers is None:
                writers = _Writers.now()
            if not _may_skip(cursor, event, writers):
                assert writers is not None
                if cursor.gap_xmax is None or event.pk > (cursor.gap_seen_upto or 0):
                    cursor.gap_xmax, cursor.gap_seen_upto = writers.bound, events[-1].pk
                break
            log.info("event stream %s: ids %s to %s were rolled back", cursor.name, expected, event.pk - 1)
        ready.append(event)
        expected = event.pk + 1
    return ready


def pump(name: str, *, batch: int = BATCH, now: datetime | None = None) -> int:
    """Deliver the next batch of committed events to one consumer. Returns how many were handled.

    Two pumps of the same consumer never run at once: the second one finds the cursor locked and
    returns 0 (on SQLite, writes are serialised anyway).
    """
    handler = _handlers[name]
    now = now or timezone.now()
    StreamCursor.objects.get_or_create(name=name)
    with transaction.atomic():
        cursor = StreamCursor.objects.select_for_update(skip_locked=True).filter(name=name).first()
        if cursor is None:
            return 0
        events = list(
            TicketEvent.objects.filter(pk__gt=cursor.position).select_related("ticket", "actor").order_by("pk")[:batch]
        )
        noted = (cursor.gap_xmax, cursor.gap_seen_upto)
        ready = _contiguous(events, cursor)
        if not ready:
            if (cursor.gap_xmax, cursor.gap_seen_upto) != noted:
                cursor.save(update_fields=["gap_xmax", "gap_seen_upto"])
            return 0
        handler(ready)
        cursor.position = ready[-1].pk
        cursor.updated_at = now
        cursor.save(update_fields=["position", "updated_at", "gap_xmax", "gap_seen_upto"])
    return len(ready)


def _end() -> int:
    return TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def ensure_cursors() -> None:
    """Give each consumer that has no cursor yet one at the end of the stream (after ``migrate``),
    so a consumer added to an existing desk does not replay years of history."""
    end = None
    for name in consumers():
        if not StreamCursor.objects.filter(name=name).exists():
            end = _end() if end is None else end
            StreamCursor.objects.get_or_create(name=name, defaults={"position": end})
    StreamSignal.objects.get_or_create(pk=1)


def skip_to_end() -> None:
    """Mark every event as handled by every consumer (after bulk-loading demo or imported data)."""
    end = _end()
    for name in consumers():
        StreamCursor.objects.update_or_create(name=name, defaults={"position": end, "updated_at": timezone.now()})


def pump_all(*, batch: int = BATCH, rounds: int = 100) -> int:
    """Drain every consumer (tests, commands). Returns events handled."""
    return pump_for(None, batch=batch, rounds=rounds)[0]


def pump_for(seconds: float | None, *, batch: int = BATCH, rounds: int = 100) -> tuple[int, bool]:
    """Deliver events to every consumer for about ``seconds`` each (None: until drained). Returns
    the events handled and whether some consumer stopped with events left: the pump job then
    queues its successor rather than holding a worker for the whole burst, so mail intake and
    other jobs queued meanwhile get their turn."""
    StreamSignal.objects.update_or_create(pk=1, defaults={"pending": False})
    total, more = 0, False
    for name in consumers():
        deadline = None if seconds is None else time.monotonic() + seconds
        for _ in range(rounds):
            handled = pump(name, batch=batch)
            total += handled
            if handled < batch:
                break
            if deadline is not None and time.monotonic() > deadline:
                more = True
                break
    return total, more


def pump_again() -> None:
    """Queue another pump job now (the previous one stopped with events left)."""
    StreamSignal.objects.filter(pk=1).update(pending=True, updated_at=timezone.now())
    from palier.tickets.tasks import pump_stream_task

    pump_stream_task.enqueue()


def lag(name: str) -> int:
    """How many events one consumer has not handled yet (for the health page)."""
    position = StreamCursor.objects.filter(name=name).values_list("position", flat=True).first()
    if position is None:
        return 0
    return TicketEvent.objects.filter(pk__gt=position).count()
