"""Migration operations that keep a large PostgreSQL table writable while an index is built.

``AddIndexConcurrently`` is Django's PostgreSQL operation (``CREATE INDEX CONCURRENTLY``: no lock
that blocks writes, at the price of two table scans) that also runs on SQLite, where it is a plain
``AddIndex``. A migration using it sets ``atomic = False`` (PostgreSQL cannot build an index
concurrently inside a transaction). ``palier/system/tests/test_migration_locks.py`` requires it for
every new index on the tables that grow with the desk (``LARGE_TABLES``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres import operations as postgres
from django.db import migrations

# the tables that grow with years of tickets: an index built on them with a plain CREATE INDEX
# blocks every write to them for as long as the build takes
LARGE_TABLES = frozenset(
    {
        ("tickets", "ticket"),
        ("tickets", "ticketevent"),
        ("tickets", "comment"),
        ("tickets", "attachment"),
        ("tickets", "searchentry"),
        ("mail", "inboundmessage"),
        ("mail", "messagerecord"),
        ("notifications", "notification"),
        ("notifications", "outgoingemail"),
        ("sla", "clock"),
        ("sla", "slaevent"),
        ("audit", "auditevent"),
        ("automation", "rulerun"),
    }
)


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL, a plain ``AddIndex`` elsewhere."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
