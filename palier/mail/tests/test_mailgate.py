"""``palier mailgate`` as the MTA runs it: a real subprocess, stdin in, exit code out."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PALIER = [sys.executable, "-m", "palier.cli"]


def run(args: list[str], env: dict[str, str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*PALIER, *args], input=stdin, env=env, capture_output=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Any) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("mailgate") / "palier.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if not migrated_sqlite(path):  # a copy of the run's freshly migrated database, or migrate
        done = run(["migrate", "--noinput"], env)
        assert done.returncode == 0, done.stderr.decode()
    return path, env


def rows(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return list(db.execute("select message_id, state from mail_inboundmessage order by id"))


MAIL = (
    b"From: Alice <alice@acme.test>\r\nTo: desk@palier.test\r\nSubject: Printer\r\n"
    b"Message-ID: <gate-1@acme.test>\r\n\r\nThe printer is jammed.\r\n"
)


def test_stored_message_exits_0_and_a_redelivery_changes_nothing(database: tuple[Path, dict[str, str]]) -> None:
    path, env = database
    first = run(["mailgate"], env, MAIL)
    assert first.returncode == 0, first.stderr.decode()
    again = run(["mailgate"], env, MAIL)
    assert again.returncode == 0
    assert rows(path) == [("gate-1@acme.test", "processed")]
    with sqlite3.connect(path) as db:
        assert db.execute("select count(*) from tickets_ticket where channel='email'").fetchone() == (1,)


def test_unprocessable_message_is_still_stored_with_exit_0(database: tuple[Path, dict[str, str]]) -> None:
    path, env = database
    done = run(["mailgate", "--mailbox", "nope"], env, b"Subject: no sender at all\r\nMessage-ID: <gate-2@x>\r\n\r\nhi")
    assert done.returncode == 0
    assert ("gate-2@x", "quarantined") in rows(path)


def test_database_down_exits_75_so_the_mta_retries(database: tuple[Path, dict[str, str]]) -> None:
    _, env = database
    broken = {**env, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere"}
    done = run(["mailgate"], broken, MAIL)
    assert done.returncode == 75, done.stderr.decode()
    assert b"could not store" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_the_intake_commit_is_durable_on_sqlite() -> None:
    """``palier mailgate`` exits 0 once the message is stored, and the MTA then forgets it: that
    commit must survive a power cut. WAL with synchronous=NORMAL (the desk's setting) may lose the
    last commits, so the intake commits with synchronous=FULL, then goes back."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from palier.mail import services

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL commits durably (synchronous_commit on)")
    raw = b"From: alice@acme.test\r\nSubject: Disk full\r\nMessage-ID: <durable@x>\r\n\r\nThe disk is full.\r\n"
    with CaptureQueriesContext(connection) as captured:
        services.receive(raw)
    statements = [q["sql"].upper() for q in captured.captured_queries]
    full = next(i for i, sql in enumerate(statements) if "SYNCHRONOUS" in sql and "FULL" in sql)
    insert = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO") and "MAIL_INBOUND" in sql)
    normal = max(i for i, sql in enumerate(statements) if "SYNCHRONOUS" in sql and "NORMAL" in sql)
    assert full < insert < normal
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL again for the rest
