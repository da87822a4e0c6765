"""PostgreSQL: store the tsvector of each search entry instead of recomputing it per row.

The expression index alone let the planner walk tickets newest-first and re-run to_tsvector on
every entry it met (tens of thousands of calls for a common word); a stored generated column
with its own GIN index makes each match a cheap index lookup. SQLite keeps its FTS5 table.
"""

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS tickets_searchentry_tsv",
    "ALTER TABLE tickets_searchentry ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, text)) STORED",
    "CREATE INDEX tickets_searchentry_tsv_gin ON tickets_searchentry USING gin (tsv)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS tickets_searchentry_tsv_gin",
    "ALTER TABLE tickets_searchentry DROP COLUMN IF EXISTS tsv",
    "CREATE INDEX tickets_searchentry_tsv ON tickets_searchentry USING gin (to_tsvector('simple'::regconfig, text))",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_seed_categories_and_matrix")]
    operations = [migrations.RunPython(forward, backward)]
