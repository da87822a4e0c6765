"""One consistent view of the database, written as a file, and what the manifest needs from it.

The database is copied first; the migrations, the row counts and the names of the files its rows
refer to are read from that same view, so a ticket and its attachment are in the archive together
or not at all (a file written after the copy is not referred to by it, and is left out).

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one step
  while Palier keeps serving (WAL: readers and the writer go on); everything else is read from the
  copy.
- PostgreSQL: a read-only REPEATABLE READ transaction exports its snapshot; ``pg_dump
  --format=custom --snapshot=…`` dumps exactly that view, and the same transaction reads the rest.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connections, models, transaction

from palier.backups import portable

SQLITE_MEMBER = "database/palier.sqlite3"
POSTGRES_MEMBER = "database/palier.pgdump"


class SnapshotError(Exception):
    """The database cannot be copied; the message says why."""


@dataclass
class Snapshot:
    engine: str  # "sqlite" or "postgresql"
    member: str
    path: Path
    migrations: list[list[str]] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # storage names the rows refer to
    portable_rows: int | None = None


def file_columns() -> list[tuple[str, str]]:
    """(table, column) of every file field of every model: attachments, knowledge-base files…"""
    columns = []
    for model in portable.portable_models():
        for item in model._meta.concrete_fields:
            if isinstance(item, models.FileField):
                columns.append((model._meta.db_table, str(item.column)))
    return columns


def take(directory: Path, *, portable_path: Path | None = None) -> Snapshot:
    """Copy the configured database into ``directory`` and read the manifest's facts from the copy."""
    vendor = connections["default"].vendor
    if vendor == "sqlite":
        return _sqlite(directory, portable_path)
    if vendor == "postgresql":
        return _postgres(directory, portable_path)
    raise SnapshotError(f"backups support SQLite and PostgreSQL, not {vendor}")


def _read_facts(snapshot: Snapshot, cursor: Any, tables: Iterable[str], quote: Any) -> None:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    snapshot.migrations = [[app, name] for app, name in cursor.fetchall()]
    for table in sorted(tables):
        cursor.execute(f"SELECT count(*) FROM {quote(table)}")  # noqa: S608 (names from the catalog)
        snapshot.row_counts[table] = int(cursor.fetchone()[0])
    names: set[str] = set()
    for table, column in file_columns():
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} <> ''")  # noqa: S608
        names.update(str(row[0]) for row in cursor.fetchall() if row[0])
    snapshot.files = sorted(names)


# --- SQLite -----------------------------------------------------------------------------------------


def _sqlite(directory: Path, portable_path: Path | None) -> Snapshot:
    connection = connections["default"]
    connection.ensure_connection()
    path = directory / "palier.sqlite3"
    target = sqlite3.connect(path)
    try:
        connection.connection.backup(target)  # pages=-1: the whole database in one step
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
    snapshot = Snapshot(engine="sqlite", member=SQLITE_MEMBER, path=path)
    copy = sqlite3.connect(path)
    try:
        cursor = copy.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        tables = [row[0] for row in cursor.fetchall()]
        _read_facts(snapshot, cursor, tables, lambda name: '"' + name.replace('"', '""') + '"')
    finally:
        copy.close()
    if portable_path is not None:  # read from the copy, through a connection of its own
        copy_connection = type(connection)({**connection.settings_dict, "NAME": str(path)}, "default")
        connections["default"] = copy_connection
        try:
            snapshot.portable_rows = portable.dump(portable_path)
        finally:
            copy_connection.close()
            connections["default"] = connection
    return snapshot


# --- PostgreSQL ---------------------------------------------------------------------------------------


def postgres_env(settings_dict: Mapping[str, Any]) -> dict[str, str]:
    """The environment the PostgreSQL client tools need for the configured database (no password
    on a command line)."""
    env = dict(os.environ)
    options = settings_dict.get("OPTIONS") or {}
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def postgres_tool(name: str, server_version: int) -> str:
    """The path of ``pg_dump`` or ``pg_restore``, refused when older than the server's major version
    (it could not read that server's dumps)."""
    tool = shutil.which(name)
    if tool is None:
        raise SnapshotError(f"{name} is not installed (Debian: postgresql-client)")
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    client, server = (int(found.group(1)) if found else 0), server_version // 10000
    if client < server:
        raise SnapshotError(f"{name} {client} cannot handle a PostgreSQL {server} server: install {name} {server}")
    return tool


def _postgres(directory: Path, portable_path: Path | None) -> Snapshot:
    connection = connections["default"]
    connection.ensure_connection()
    pg_dump = postgres_tool("pg_dump", connection.pg_version)  # type: ignore[attr-defined]
    path = directory / "palier.pgdump"
    snapshot = Snapshot(engine="postgresql", member=POSTGRES_MEMBER, path=path)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        exported = cursor.fetchone()[0]
        done = subprocess.run(  # noqa: S603
            [pg_dump, "--format=custom", f"--snapshot={exported}", f"--file={path}"],
            env=postgres_env(connection.settings_dict),
            capture_output=True,
            text=True,
            errors="replace",
        )
        if done.returncode != 0:
            raise SnapshotError(f"pg_dump failed: {done.stderr.strip()}")
        tables = connection.introspection.table_names(cursor)
        _read_facts(snapshot, cursor, tables, connection.ops.quote_name)
        if portable_path is not None:
            snapshot.portable_rows = portable.dump(portable_path)
    os.chmod(path, 0o600)
    return snapshot
