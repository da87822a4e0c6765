"""Insert many new rows of one model fast: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

Django's ``bulk_create`` prepares every value of every row through the field's conversion chain
(half the cost of opening 1,000 tickets at once was there). For the plain columns of the tables
written in bulk (events, clocks, timelines) the values need no conversion: this takes the keys
from the table's sequence first (so the objects get their primary keys, in list order, as with
``bulk_create``'s ``RETURNING``), then streams the rows through ``COPY … FROM STDIN``, which
psycopg formats in C. JSON columns go through the field's own conversion. Anything else — an
expression as a value, a field type not listed — falls back to ``bulk_create`` for the whole
batch, so the result is the same on every database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from typing import Any, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)

# field types whose Python value PostgreSQL takes as is (aware datetimes, ints, floats, str, bool)
_PLAIN = (
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.DateTimeField,
    models.FloatField,
    models.IntegerField,
    models.PositiveBigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.ForeignKey,
)
_TEXT = (models.CharField, models.TextField)


def _text(value: Any) -> Any:
    # a choice given as its enum member is stored by value, as Django does
    return value.value if isinstance(value, Enum) else value


def insert_new(objs: list[M]) -> list[M]:
    """Insert ``objs`` (new instances of one model, without primary keys) and set their keys."""
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [f for f in meta.concrete_fields if f is not pk]
    converters = _converters(fields, connection) if connection.vendor == "postgresql" else None
    if converters is None or any(getattr(o, pk.attname) is not None for o in objs):
        return model._default_manager.using(alias).bulk_create(objs)
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
        values = [getattr(obj, f.attname) for f in fields]
        if any(hasattr(v, "resolve_expression") for v in values):
            return model._default_manager.using(alias).bulk_create(objs)
        rows.append([convert(v) if convert is not None else v for convert, v in zip(converters, values, strict=True)])
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(str(c)) for c in [pk.column, *(f.column for f in fields)])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        keys = sorted(row[0] for row in cursor.fetchall())
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for key, row in zip(keys, rows, strict=True):
                copy.write_row([key, *row])
    for key, obj in zip(keys, objs, strict=True):
        setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _converters(fields: Sequence[models.Field[Any, Any]], connection: Any) -> list[Callable[[Any], Any] | None] | None:
    out: list[Callable[[Any], Any] | None] = []
    for f in fields:
        if isinstance(f, models.JSONField):

            def convert(value: Any, f: models.Field[Any, Any] = f) -> Any:
                return f.get_db_prep_save(value, connection)

            out.append(convert)
        elif type(f) in _TEXT:
            out.append(_text)
        elif type(f) in _PLAIN:
            out.append(None)
        else:
            return None
    return out
