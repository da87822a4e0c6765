"""Database-specific search index for article translations.

PostgreSQL: a stored ``tsv`` column, the French or English configuration chosen by the row's
language, title weighted A and summary + body weighted B, with a GIN index. The text is already
lower-cased and stripped of accents by the application (no ``unaccent`` extension needed).

SQLite: an FTS5 table whose rows (rowid = translation id) hold the Snowball-stemmed words, written
by ``palier.kb.search.sync_index``; a trigger removes a row when its translation is deleted.
"""

from django.db import migrations

CONFIG = "(CASE WHEN language = 'fr' THEN 'french'::regconfig ELSE 'english'::regconfig END)"
PG_FORWARD = [
    "ALTER TABLE kb_articletranslation ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    f"setweight(to_tsvector({CONFIG}, coalesce(search_title, '')), 'A') || "
    f"setweight(to_tsvector({CONFIG}, coalesce(search_body, '')), 'B')) STORED",
    "CREATE INDEX kb_articletranslation_tsv_gin ON kb_articletranslation USING gin (tsv)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS kb_articletranslation_tsv_gin",
    "ALTER TABLE kb_articletranslation DROP COLUMN IF EXISTS tsv",
]
SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE kb_article_fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER kb_articletranslation_ad AFTER DELETE ON kb_articletranslation BEGIN "
    "DELETE FROM kb_article_fts WHERE rowid = old.id; END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS kb_articletranslation_ad",
    "DROP TABLE IF EXISTS kb_article_fts",
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
    dependencies = [("kb", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
