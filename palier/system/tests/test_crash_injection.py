"""Crash injection: a real ``palier worker`` is killed with SIGKILL in the middle of a job, a new
one is started, and every effect of the job is there exactly once.

The middle of a job is reached without test hooks in the code: another session holds a row or a
table lock the job's transaction needs (or the webhook receiver holds the request), so the worker
is caught inside its transaction, then killed. PostgreSQL only: SQLite's single write lock would
stop the worker before its transaction, not inside it. The mail fetch batch has its own test with
a real Dovecot (``palier/mail/tests/test_crash.py``: ``palier mailfetch`` killed mid-batch).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from palier.people.models import User
from palier.tickets.tests.builders import make_ticket
from testsupport.processes import DATABASE_TASKS, Processes, run_workers, shared_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs row locks held by another session"),
    pytest.mark.django_db(transaction=True),
]


def _waiting_on_a_lock(holder: psycopg.Connection[Any]) -> bool:
    """Whether a session waits for a lock (asked from the test's own autocommit connection: within
    a transaction PostgreSQL shows the same view of its sessions throughout)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s"
            " AND wait_event_type = 'Lock'",
            [holder.info.backend_pid],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _queue_empty() -> bool:
    from django_tasks_db.models import DBTaskResult

    return not DBTaskResult.objects.exclude(status__in=["SUCCESSFUL", "FAILED"]).exists()


def _kill(workers: Processes) -> None:
    os.killpg(workers.processes[0].pid, signal.SIGKILL)
    workers.processes[0].wait()


@contextmanager
def _crashed(env: dict[str, str], caught: Callable[[], bool]) -> Iterator[None]:
    """Run one worker until ``caught()`` (it is inside its job), SIGKILL it, then let the block go."""
    with run_workers(1, env=env) as workers:
        workers.wait_until(caught, timeout=90)
        _kill(workers)
    yield


def _until_done(env: dict[str, str], done: Callable[[], bool]) -> None:
    """A fresh worker, until ``done()``."""
    with run_workers(1, env=env, until=done, timeout=90):
        pass


@pytest.fixture
def holder() -> Iterator[psycopg.Connection[Any]]:
    conn = psycopg.connect(**connection.get_connection_params())
    yield conn
    conn.rollback()
    conn.close()


@pytest.fixture
def env(settings: Any) -> Iterator[dict[str, str]]:
    settings.TASKS = DATABASE_TASKS
    with shared_database() as shared:
        yield shared


def test_sla_sweep(requester: User, env: dict[str, str], holder: psycopg.Connection[Any]) -> None:
    from palier.sla.models import Calendar, Clock, SlaPolicy
    from palier.sla.services.sweep import BREACH, fire_key
    from palier.sla.tasks import sla_sweep_task
    from palier.tickets.models import TicketEvent

    if not SlaPolicy.objects.exists():
        calendar = Calendar.objects.create(name="Always", always_open=True)
        SlaPolicy.objects.create(name="All", calendar=calendar, first_response_minutes=60, resolution_minutes=600)
    for n in range(3):
        make_ticket(requester, subject=f"Late {n}")
    past = timezone.now() - timedelta(days=2)
    Clock.objects.update(warn_at=past, due_at=past, next_event_at=past)  # every clock overdue
    clocks = list(Clock.objects.all())
    first = clocks[0]
    holder.execute(  # the sweep's insert of this breach waits for this uncommitted row
        "INSERT INTO tickets_ticketevent (ticket_id, kind, is_internal, data, created_at, key)"
        " VALUES (%s, 'sla_breach', true, '{}', now(), %s)",
        [first.ticket_id, fire_key(first.pk, BREACH, first.generation)],
    )
    sla_sweep_task.enqueue()
    with _crashed(env, lambda: _waiting_on_a_lock(holder)):
        holder.rollback()
    assert not TicketEvent.objects.filter(key__startswith="sla:").exists()  # the killed sweep left nothing
    sla_sweep_task.enqueue()  # the scheduler's next tick
    breaches = [fire_key(clock.pk, BREACH, clock.generation) for clock in clocks]
    _until_done(env, lambda: TicketEvent.objects.filter(key__in=breaches).count() == len(breaches))
    for key in breaches:
        assert TicketEvent.objects.filter(key=key).count() == 1


def test_notification_send(requester: User, env: dict[str, str], holder: psycopg.Connection[Any]) -> None:
    from palier.notifications.models import OutgoingEmail
    from palier.notifications.services import event_key
    from palier.tickets import stream
    from palier.tickets.models import StreamCursor, TicketEvent
    from palier.tickets.tasks import pump_stream_task

    ticket = make_ticket(requester, subject="Printer on fire")
    created = TicketEvent.objects.get(ticket=ticket, kind="created")
    # the consumers start right before this ticket (ids rolled back by the tests before it would
    # be a gap, which waits while the holder below writes: rightly, it might be the holder's)
    stream.ensure_cursors()
    StreamCursor.objects.update(position=created.pk - 1)
    key = event_key(created.pk, "created")
    holder.execute(  # the consumer's acknowledgement to the requester waits for this row
        "INSERT INTO notifications_outgoingemail (address, from_address, subject, text, html, key, message_id,"
        ' in_reply_to, "references", automatic, state, attempts, next_attempt_at, last_error, created_at)'
        " VALUES (%s, '', '', '', '', %s, 'holder@test', '', '', true, 'queued', 0, now(), '', now())",
        [requester.email, key],
    )
    pump_stream_task.enqueue()
    with _crashed(env, lambda: _waiting_on_a_lock(holder)):
        holder.rollback()
    assert not OutgoingEmail.objects.filter(key=key).exists()
    pump_stream_task.enqueue()
    _until_done(env, lambda: OutgoingEmail.objects.filter(key=key).exists() and stream.lag("notifications") == 0)
    assert OutgoingEmail.objects.filter(key=key, address=requester.email).count() == 1


@contextmanager
def _stalling_receiver() -> Iterator[tuple[str, list[str], threading.Event, threading.Event]]:
    """An HTTP receiver: the first request is held until ``release`` is set; it records each
    delivery id, and applies each id once (what ``X-Palier-Delivery`` is for)."""
    deliveries: list[str] = []
    arrived, release = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            deliveries.append(self.headers["X-Palier-Delivery"])
            if len(deliveries) == 1:
                arrived.set()
                release.wait(60)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", deliveries, arrived, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_webhook_delivery(env: dict[str, str]) -> None:
    from palier.core import outbox
    from palier.core.models import OutboxItem
    from palier.core.tasks import run_outbox_task

    # the receiver is on this machine, over http: the desk must allow it (docs/security.md)
    env = {**env, "PALIER_WEBHOOKS_ALLOW_HTTP": "1", "PALIER_WEBHOOKS_ALLOW_PRIVATE": "1"}
    with _stalling_receiver() as (url, deliveries, arrived, release):
        outbox.add(
            "automation.webhook", key="d-1", payload={"url": url, "body": "{}", "signature": "s", "delivery": "d-1"}
        )
        with _crashed(env, arrived.is_set):  # add() queued the job after commit (autocommit here)
            pass
        release.set()
        item = OutboxItem.objects.get(key="d-1")
        assert item.state == "running"  # its worker died holding it
        # ten minutes later the claim is stale: the next run of the periodic job takes it
        OutboxItem.objects.filter(pk=item.pk).update(claimed_at=timezone.now() - outbox.STALE - timedelta(seconds=1))
        run_outbox_task.enqueue()
        _until_done(env, lambda: OutboxItem.objects.get(pk=item.pk).state == "done")
    assert set(deliveries) == {"d-1"}  # one delivery, which the receiver applies once
    assert OutboxItem.objects.get(pk=item.pk).attempts == 2


def test_export(agent: User, requester: User, env: dict[str, str], holder: psycopg.Connection[Any]) -> None:
    from palier.reports.models import ExportJob
    from palier.reports.services import export_jobs
    from palier.reports.tasks import recover_exports_task
    from palier.tickets.selectors import TicketFilters

    for n in range(3):
        make_ticket(requester, subject=f"Export {n}")
    with run_workers(1, env=env) as workers:
        workers.wait_until(_queue_empty)  # the tickets' stream pumps first
        holder.execute("LOCK TABLE tickets_ticket IN ACCESS EXCLUSIVE MODE")  # the export's read waits
        job = export_jobs.queue_export(owner=agent, filters=TicketFilters(), fmt="csv", total=3)
        workers.wait_until(lambda: _waiting_on_a_lock(holder), timeout=90)
        _kill(workers)
    holder.rollback()
    job.refresh_from_db()
    assert (job.state, job.file) == ("running", "")
    ExportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=11))  # gone silent
    recover_exports_task.enqueue()
    _until_done(env, lambda: ExportJob.objects.get(pk=job.pk).state == "done")
    job.refresh_from_db()
    exports = Path(env["PALIER_DATA_DIR"]) / "media" / "exports"
    files = [p for p in exports.rglob("*") if p.is_file()] if exports.exists() else []
    assert job.attempts == 2 and [p.name for p in files] == [Path(job.file).name]  # one file, the final one
