"""Database-specific search index for the known-error base (palier/problems/search.py).

PostgreSQL: a stored ``tsv`` column generated from ``search_text`` (the normalised reference,
title, description, root cause and workaround the services keep), stemmed by both the French and
the English configuration so a query in either language finds the problem, with a GIN index.

SQLite: an FTS5 table whose rows (rowid = problem id) hold the words stemmed by both Snowball
stemmers, title and body apart, written by ``palier.problems.search.sync_index``; a trigger removes
a row when its problem is deleted.
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE problems_problem ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "to_tsvector('french'::regconfig, coalesce(search_text, '')) || "
    "to_tsvector('english'::regconfig, coalesce(search_text, ''))) STORED",
    "CREATE INDEX problems_problem_tsv_gin ON problems_problem USING gin (tsv)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS problems_problem_tsv_gin",
    "ALTER TABLE problems_problem DROP COLUMN IF EXISTS tsv",
]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE problems_problem_fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER problems_problem_ad AFTER DELETE ON problems_problem BEGIN "
    "DELETE FROM problems_problem_fts WHERE rowid = old.id; END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS problems_problem_ad",
    "DROP TABLE IF EXISTS problems_problem_fts",
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
    dependencies = [("problems", "0003_idempotency")]
    operations = [migrations.RunPython(forward, backward)]
