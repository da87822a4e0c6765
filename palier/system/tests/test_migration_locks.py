"""Upgrading a desk with years of tickets must not block writes while an index is built: every
migration that builds an index on a large table (``palier.lib.indexes.LARGE_TABLES``) does it
concurrently, or is one of the earlier ones whose lock time docs/release-notes.md states."""

from __future__ import annotations

import re
from pathlib import Path

from django.db import migrations
from django.db.migrations.loader import MigrationLoader

from palier.lib.indexes import LARGE_TABLES, AddIndexConcurrently

NOTES = Path(__file__).resolve().parents[3] / "docs" / "release-notes.md"
_CREATE_INDEX = re.compile(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.IGNORECASE)


def _locking(app: str, operation: object) -> str:
    """What in ``operation`` builds an index on a large table with a write-blocking lock, or ""."""
    model = getattr(operation, "model_name", "") or getattr(operation, "name", "")
    large = (app, str(model).lower()) in LARGE_TABLES
    if isinstance(operation, AddIndexConcurrently):
        return ""
    if large and isinstance(operation, (migrations.AddIndex, migrations.AddConstraint)):
        return f"{type(operation).__name__} on {model}"
    field = getattr(operation, "field", None)
    indexed = getattr(field, "db_index", False) or getattr(field, "unique", False)
    if large and isinstance(operation, (migrations.AddField, migrations.AlterField)) and indexed:
        return f"{type(operation).__name__} {operation.name} with an index on {model}"  # type: ignore[attr-defined]
    if isinstance(operation, migrations.RunSQL):
        sql = operation.sql if isinstance(operation.sql, str) else " ".join(map(str, operation.sql))
        if _CREATE_INDEX.search(sql):
            return "RunSQL CREATE INDEX"
    return ""


def test_indexes_on_large_tables_are_built_concurrently_or_their_lock_is_documented() -> None:
    notes = NOTES.read_text(encoding="utf-8")
    offenders = []
    for (app, name), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items():
        if not migration.__module__.startswith("palier.") or migration.initial:
            continue  # an initial migration indexes the tables it has just created, empty
        for operation in migration.operations:
            problem = _locking(app, operation)
            if problem and f"`{app}.{name}`" not in notes:
                offenders.append(f"{app}.{name}: {problem}")
            if isinstance(operation, AddIndexConcurrently):
                assert migration.atomic is False, f"{app}.{name} builds an index concurrently: set atomic = False"
    assert not offenders, "build these indexes with palier.lib.indexes.AddIndexConcurrently: " + "; ".join(offenders)
