"""The group-commit writer killed (SIGKILL) in the middle of its transaction: a ticket is all there
(its ``created`` event, search entry and SLA clocks) or not there at all (real PostgreSQL, a real
process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from palier.people.models import User
from palier.sla.models import Calendar, Clock, SlaPolicy
from palier.tickets.models import SearchEntry, Ticket, TicketEvent
from testsupport.processes import shared_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the writer thread runs on PostgreSQL only"),
]
ROOT = Path(__file__).resolve().parents[3]


def _run(env: dict[str, str], email: str, marker: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "testsupport" / "crash_create.py"), email],
        env={**env, "PALIER_CRASH_MARKER": marker, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _whole(ticket: Ticket) -> bool:
    return (
        TicketEvent.objects.filter(ticket=ticket, kind="created").exists()
        and SearchEntry.objects.filter(ticket=ticket).exists()
        and Clock.objects.filter(ticket=ticket).exists()
    )


@pytest.mark.django_db(transaction=True)
def test_a_writer_killed_mid_transaction_leaves_no_partial_ticket(requester: User, tmp_path: Path) -> None:
    if not SlaPolicy.objects.exists():  # a flushed test database has lost the seeded policies
        calendar = Calendar.objects.create(name="Always", always_open=True)
        SlaPolicy.objects.create(name="All", calendar=calendar, first_response_minutes=60, resolution_minutes=600)
    marker = tmp_path / "in-transaction"
    with shared_database() as env:
        process = _run(env, requester.email, str(marker))
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the writer never reached its transaction"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert not Ticket.objects.filter(subject__startswith="Crash").exists()  # nothing half-written

        finished = _run(env, requester.email, "")
        assert finished.wait(60) == 0, finished.stdout.read().decode()  # type: ignore[union-attr]
    created = list(Ticket.objects.filter(subject__startswith="Crash"))
    assert len(created) == 3 and all(_whole(ticket) for ticket in created)
