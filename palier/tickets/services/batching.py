"""Group commit for ticket creation: concurrent creations in one web process share a transaction.

Under load most of the cost of opening a ticket is per statement and per commit, not per ticket:
``open_tickets`` writes eight tickets with about as many statements as one. The API therefore
validates each request in its own thread (``prepare_ticket``; a refused ticket never joins a
batch), then hands the prepared ticket to this process's writer thread and waits. The writer
takes everything waiting (up to ``PALIER_CREATE_BATCH`` tickets), opens them in one transaction
and wakes each request with its own ticket once the transaction has committed: a 201 is only
sent for a ticket that is on disk. Nothing waits on purpose; a lone request is written at once,
so batches only form when requests arrive while the writer is busy.

What a crash can leave: the writer's transaction holds each ticket with its ``created`` event,
search entry and SLA clocks (``open_tickets`` with its hooks), so a ticket is whole or absent
(``tests/test_batching_crash.py`` SIGKILLs the process inside that transaction). It commits
outside the request's transaction, which writes nothing else for a creation: the request only
reads the new ticket back. Killed after the commit and before the answer, the ticket exists and
the client saw no 201, as with any HTTP API: a client that retries sends an ``Idempotency-Key``
(such creations skip the writer and record the key in the ticket's own transaction).

If a batch fails, each of its tickets is written again on its own, so one bad ticket cannot cost
the others theirs; each request then gets its own result or error. With ``PALIER_CREATE_BATCH``
at 0 or 1 (the test suite's setting), or on SQLite, tickets are written in the caller's thread and
transaction.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils.translation import gettext as _

from palier.lib.errors import Unavailable
from palier.tickets.models import Ticket
from palier.tickets.services.lifecycle import NewTicket, open_tickets

log = logging.getLogger(__name__)

WAIT_SECONDS = 60.0
IDLE_SECONDS = 30  # a writer with nothing to do for this long ends; the next creation starts one


class WriterUnavailable(Unavailable):
    """The writer did not answer in time; the ticket may or may not have been created."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "The ticket could not be confirmed in time; it may have been created. Look for it before "
                "sending it again, or send creations with an Idempotency-Key header so a retry is safe."
            )
        )


@dataclass
class _Waiting:
    item: NewTicket
    done: threading.Event = field(default_factory=threading.Event)
    ticket: Ticket | None = None
    error: BaseException | None = None


class _Writer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: list[_Waiting] = []
        self._thread: threading.Thread | None = None
        self._stopping = False

    def submit(self, item: NewTicket, limit: int) -> Ticket:
        waiting = _Waiting(item)
        with self._lock:
            self._queue.append(waiting)
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(
                    target=self._run, args=(limit,), name="palier-ticket-writer", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        if not waiting.done.wait(WAIT_SECONDS):
            raise WriterUnavailable
        if waiting.error is not None:
            raise waiting.error
        assert waiting.ticket is not None
        return waiting.ticket

    def waiting(self) -> int:
        """How many creations wait for the writer (for tests and diagnostics)."""
        with self._lock:
            return len(self._queue)

    def stop(self) -> None:
        """Let the writer finish what is queued, close its connection and end (tests)."""
        with self._lock:
            self._stopping = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=WAIT_SECONDS)

    def _next_batch(self, limit: int) -> list[_Waiting] | None:
        """The next batch, or None to end the thread (idle for a while, or stopping)."""
        with self._lock:
            if not self._queue and not self._stopping:
                self._ready.wait(IDLE_SECONDS)
            if not self._queue:
                self._thread = None
                return None
            batch, self._queue = self._queue[:limit], self._queue[limit:]
            return batch

    def _run(self, limit: int) -> None:
        try:
            while (batch := self._next_batch(limit)) is not None:
                try:
                    _write(batch)
                except BaseException:  # pragma: no cover - _write answers every request itself
                    log.exception("the ticket writer failed")
                finally:
                    for waiting in batch:
                        if not waiting.done.is_set():
                            waiting.error = waiting.error or WriterUnavailable()
                            waiting.done.set()
        finally:
            connection.close()  # an idle writer holds no database connection


def _write(batch: list[_Waiting]) -> None:
    close_old_connections()  # this thread's connection may have been dropped or grown too old
    try:
        with transaction.atomic():
            tickets = open_tickets([waiting.item for waiting in batch])
    except Exception as exc:
        if len(batch) == 1:
            batch[0].error = exc
            batch[0].done.set()
            return
        log.warning("a batch of %d new tickets failed (%s); writing them one by one", len(batch), exc)
        for waiting in batch:
            _write([waiting])
        return
    for waiting, ticket in zip(batch, tickets, strict=True):
        waiting.ticket = ticket
        waiting.done.set()


_writer = _Writer()


def open_ticket_batched(item: NewTicket) -> Ticket:
    """Open a prepared ticket, sharing the transaction with other creations of this process that
    arrive at the same time. Returns once the ticket is committed."""
    limit = int(getattr(settings, "PALIER_CREATE_BATCH", 0))
    # SQLite: the request's own transaction holds the write lock, and writers queue anyway
    if limit <= 1 or connection.vendor != "postgresql":
        return open_tickets([item])[0]
    return _writer.submit(item, limit)
