"""Helpers of the backup tests: a populated desk, subprocesses with their own environment, and
comparisons of databases and media folders that know nothing of Palier's code."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from palier.kb.models import Article
from palier.kb.tests.builders import make_article
from palier.people.models import User
from palier.tickets import services as tickets
from testsupport.processes import palier_env

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
# the row Palier writes once a backup is complete: in the source after the snapshot, never in the archive
NOT_IN_SNAPSHOT = {"backups_backuprecord"}


def upload(name: str, data: bytes) -> io.BytesIO:
    stream = io.BytesIO(data)
    stream.name = name
    return stream


def populate(*, requester: User, agent: User, manager: User) -> None:
    """A few tickets through the services, with attachments and comments, and a KB article with a file."""
    first = tickets.open_ticket_with_files(
        requester=requester,
        by=requester,
        subject="Imprimante en panne au 2e étage",
        description="Bourrage papier, voir la photo.",
        uploads=[upload("photo.png", PNG), upload("journal.txt", "erreur 42 — réseau\n".encode())],
    )
    tickets.comment_on_ticket(first, by=agent, body="Je passe voir ça à 14 h.")
    tickets.comment_on_ticket(first, by=agent, body="Note interne : toner commandé.", internal=True)
    tickets.comment_on_ticket(
        first, by=requester, body="Merci, voici la suite.", uploads=[upload("suite.txt", b"second file\n")]
    )
    for n in range(3):
        tickets.open_ticket(requester=requester, by=requester, subject=f"VPN coupé {n}", description="Depuis ce matin.")
    article = make_article(manager, fr=("Changer le toner", "Ouvrir le capot, puis…"), status=Article.Status.PUBLISHED)
    from palier.kb import services as kb

    kb.add_article_file(article, by=manager, upload=upload("schema.png", PNG + b"kb"))


def run_palier(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "palier.cli", *args], env=env, capture_output=True, text=True, timeout=240
    )
    if check and done.returncode != 0:
        pytest.fail(f"palier {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def instance_env(folder: Path, database_url: str | None = None) -> dict[str, str]:
    """A fresh Palier: its own data folder, media folder and database."""
    folder.mkdir(parents=True, exist_ok=True)
    return palier_env(
        PALIER_DATA_DIR=str(folder),
        PALIER_MEDIA_DIR=str(folder / "media"),
        DATABASE_URL=database_url or f"sqlite:///{folder / 'palier.sqlite3'}",
    )


def media_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by path relative to it."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def sqlite_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite file, sorted (search indexes included)."""
    db = sqlite3.connect(path)
    try:
        names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
            if name not in NOT_IN_SNAPSHOT and not name.startswith("sqlite_")
        }
    finally:
        db.close()


def postgres_tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    import psycopg

    with psycopg.connect(url) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE'"
            )
        ]
        return {
            name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
            if name not in NOT_IN_SNAPSHOT
        }


def portable_rows(archive_path: Path) -> list[Any]:
    """The rows of an archive's data.jsonl, comparable across engines: JSON parsed (PostgreSQL's jsonb
    orders keys its own way), many-to-many lists of keys sorted (their query has no order)."""
    with tarfile.open(archive_path) as tar:
        source = tar.extractfile("data.jsonl")
        assert source is not None
        return _comparable(source.read().decode())


def sqlite_portable_rows(database: Path, out: Path) -> list[Any]:
    """The portable rows of another SQLite Palier, dumped in this process."""
    from django.db import connections

    from palier.backups import portable

    mine = connections["default"]
    other = type(mine)({**mine.settings_dict, "NAME": str(database)}, "default")
    connections["default"] = other
    try:
        portable.dump(out)
    finally:
        other.close()
        connections["default"] = mine
    return _comparable(out.read_text())


def _comparable(text: str) -> list[Any]:
    rows = [json.loads(line) for line in text.splitlines() if line]
    kept = [row for row in rows if row["model"] != "backups.backuprecord"]
    for row in kept:
        for key, value in row["fields"].items():
            if isinstance(value, list) and all(isinstance(item, int | str) for item in value):
                row["fields"][key] = sorted(value, key=repr)
    return sorted(kept, key=lambda row: (row["model"], json.dumps(row["pk"])))


def manifest(archive_path: Path) -> dict[str, Any]:
    with tarfile.open(archive_path) as tar:
        source = tar.extractfile("manifest.json")
        assert source is not None
        return dict(json.loads(source.read()))


def media_members(archive_path: Path) -> dict[str, str]:
    return {
        name.removeprefix("media/"): facts["sha256"]
        for name, facts in manifest(archive_path)["members"].items()
        if name.startswith("media/")
    }


def postgres_available() -> None:
    """Skip (or fail, when PALIER_REQUIRE_POSTGRES=1) without PostgreSQL on 127.0.0.1:5432."""
    import psycopg

    try:
        psycopg.connect(PG_ADMIN, connect_timeout=2).close()
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable on 127.0.0.1:5432 as postgres ({exc})"
        if os.environ.get("PALIER_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}, and PALIER_REQUIRE_POSTGRES=1")
        pytest.skip(reason)


@contextlib.contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A new empty database ``bk_<label>_<random>``, dropped afterwards; yields its URL."""
    import psycopg

    name = f"bk_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
