"""The portable form of a desk: every row of every model as JSON lines, primary keys kept.

It moves a desk between SQLite and PostgreSQL: ``dump`` streams each model in primary-key order
through Django's ``jsonl`` serializer (timestamps keep their microseconds), ``load`` empties the
configured database and loads the lines with ``loaddata``, then resets PostgreSQL's sequences.
Search indexes are not rows of a model: SQLite's FTS tables are filled by their triggers and
PostgreSQL's ``tsv`` columns are generated, as the rows arrive.
"""

from __future__ import annotations

import datetime
import io
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction


class PreciseEncoder(DjangoJSONEncoder):
    """Django's encoder, without its rounding of times to the millisecond."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def portable_models() -> list[type[models.Model]]:
    """Every model with a table of its own (no proxy, no unmanaged one), in app order."""
    return [model for model in apps.get_models() if model._meta.managed and not model._meta.proxy]


def dump(path: Path, *, using: str = "default") -> int:
    """Write every row of every model to ``path``; returns the number of rows."""
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        for model in portable_models():
            queryset = model._base_manager.using(using).order_by("pk")
            counted = _Counting(out)
            serializers.serialize("jsonl", queryset.iterator(chunk_size=1000), stream=counted, cls=PreciseEncoder)
            rows += counted.lines
    return rows


class _Counting(io.TextIOBase):
    def __init__(self, out: Any) -> None:
        self.out, self.lines = out, 0

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        return int(self.out.write(text))


def load(path: Path) -> None:
    """Replace the configured database's rows with those of ``path`` (the schema must be current)."""
    connection = connections["default"]
    with transaction.atomic():
        # the rows the migrations made (content types, seeds) are in the file with their own keys
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        call_command("loaddata", str(path), verbosity=0)
        # what `palier sqlsequencereset` prints, for every model: the next ids follow the loaded ones
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), portable_models()):
                cursor.execute(statement)
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
