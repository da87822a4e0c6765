"""A backup taken while another process opens tickets with attachments holds each ticket with its
file, or neither: no row without its file, no file without its row."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from palier.backups.tests.helpers import manifest
from palier.people.models import User
from palier.tickets.models import Ticket
from testsupport.processes import shared_database

pytestmark = pytest.mark.django_db(transaction=True)

WRITER = """
import io, pathlib
from palier.people.models import User
from palier.tickets import services
user = User.objects.get(pk={user})
stop, n = pathlib.Path({stop!r}), 0
while not stop.exists():
    upload = io.BytesIO(b"written by the other process %d\\n" % n)
    upload.name = "w%d.txt" % n
    services.open_ticket_with_files(requester=user, by=user, subject="w%d" % n, description="x", uploads=[upload])
    n += 1
"""


def snapshot_facts(archive: Path, work: Path) -> tuple[int, set[str]]:
    """(tickets, attachment and KB file names) as the archive's own database has them."""
    with tarfile.open(archive) as tar:
        member = next(name for name in tar.getnames() if name.startswith("database/"))
        tar.extract(member, work, filter="data")
    if member.endswith(".sqlite3"):
        db = sqlite3.connect(work / member)
        tickets = db.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        names = {
            row[0] for row in db.execute("SELECT file FROM tickets_attachment UNION SELECT file FROM kb_articlefile")
        }
        db.close()
        return tickets, names
    facts = manifest(archive)  # PostgreSQL: the manifest's counts come from the same snapshot
    return facts["row_counts"]["tickets_ticket"], set()


def test_backup_while_another_process_writes(requester: User, tmp_path: Path, settings: object) -> None:
    stop = tmp_path / "stop"
    with shared_database() as env:
        env = {**env, "PALIER_MEDIA_DIR": str(settings.MEDIA_ROOT)}  # type: ignore[attr-defined]
        code = WRITER.format(user=requester.pk, stop=str(stop))
        writer = subprocess.Popen(
            [sys.executable, "-m", "palier.cli", "shell", "-c", code], env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 60
            while Ticket.objects.count() < 3 and time.monotonic() < deadline and writer.poll() is None:
                time.sleep(0.2)
            archives = []
            for n in range(3):
                archives.append(tmp_path / f"{n}.tar.gz")
                call_command("backup", str(archives[-1]))
                time.sleep(0.3)
        finally:
            stop.touch()
            _out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        final = Ticket.objects.count()
    counts = []
    for archive in archives:
        facts = manifest(archive)
        assert facts["missing"] == []
        files = {name.removeprefix("media/") for name in facts["members"] if name.startswith("media/")}
        with tempfile.TemporaryDirectory() as work:
            tickets, referenced = snapshot_facts(archive, Path(work))
        if connection.vendor == "sqlite":
            assert files == referenced  # every row's file, and no file written after the snapshot
        assert len(files) == tickets  # one attachment per ticket of the writer
        counts.append(tickets)
    assert counts[0] >= 3 and counts[-1] > counts[0] and final > counts[-1]  # written during the backups
