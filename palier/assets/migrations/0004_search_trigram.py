"""On PostgreSQL, the asset list's text filter (``search_text LIKE '%word%'``) reads a trigram
index instead of every row. pg_trgm is a trusted extension: the database's owner may create it.
SQLite has no such index; its lists are small enough to read."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS asset_search_trgm ON assets_asset USING gin (search_text gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS asset_search_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("assets", "0003_assetidempotencykey")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
