"""Database-specific parts: FTS5 (SQLite) or a GIN index (PostgreSQL) for search, and
per-kind number sequences on PostgreSQL."""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE tickets_searchentry_fts USING fts5("
    "text, content='tickets_searchentry', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER tickets_searchentry_ai AFTER INSERT ON tickets_searchentry BEGIN "
    "INSERT INTO tickets_searchentry_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER tickets_searchentry_ad AFTER DELETE ON tickets_searchentry BEGIN "
    "INSERT INTO tickets_searchentry_fts(tickets_searchentry_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER tickets_searchentry_au AFTER UPDATE ON tickets_searchentry BEGIN "
    "INSERT INTO tickets_searchentry_fts(tickets_searchentry_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO tickets_searchentry_fts(rowid, text) VALUES (new.id, new.text); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_searchentry_au",
    "DROP TRIGGER IF EXISTS tickets_searchentry_ad",
    "DROP TRIGGER IF EXISTS tickets_searchentry_ai",
    "DROP TABLE IF EXISTS tickets_searchentry_fts",
]
PG_FORWARD = [
    "CREATE INDEX tickets_searchentry_tsv ON tickets_searchentry "
    "USING gin (to_tsvector('simple'::regconfig, text))",
    "CREATE SEQUENCE IF NOT EXISTS tickets_number_incident_seq",
    "CREATE SEQUENCE IF NOT EXISTS tickets_number_request_seq",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS tickets_searchentry_tsv",
    "DROP SEQUENCE IF EXISTS tickets_number_incident_seq",
    "DROP SEQUENCE IF EXISTS tickets_number_request_seq",
]


def forward(apps, schema_editor):
    statements = {"sqlite": SQLITE_FORWARD, "postgresql": PG_FORWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": PG_BACKWARD}.get(schema_editor.connection.vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
