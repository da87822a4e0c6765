"""Keyset pagination for the small lists (users, groups, comments, history, …).

The cursor is the opaque, url-safe encoding of the last row's sort values; the ticket list has
its own, richer cursor in ``tickets.selectors.ticket_page``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from palier.api.errors import Problem

M = TypeVar("M", bound=Model)


def _bad_cursor() -> Problem:
    return Problem(
        400, _("The cursor is not valid; start again from the first page."), errors={"cursor": [_("Invalid cursor.")]}
    )


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]  # dates and datetimes
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, fields: tuple[str, ...]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise _bad_cursor() from exc
    if not isinstance(values, list) or len(values) != len(fields):
        raise _bad_cursor()
    out: list[Any] = []
    for name, value in zip(fields, values, strict=True):
        if name.endswith("_at"):
            value = parse_datetime(value) if isinstance(value, str) else None
        if value is None or isinstance(value, (bool, dict, list)):
            raise _bad_cursor()
        out.append(value)
    return out


def _after(fields: tuple[str, ...], values: list[Any]) -> Q:
    """Rows after ``values`` in the order of ``fields`` (a leading "-" means descending)."""
    condition = Q()
    for i in range(len(fields) - 1, -1, -1):
        name = fields[i].lstrip("-")
        step = Q(**{f"{name}__{'lt' if fields[i].startswith('-') else 'gt'}": values[i]})
        if i < len(fields) - 1:
            step = step | (Q(**{name: values[i]}) & condition)
        condition = step
    return condition


def keyset_page(
    qs: QuerySet[M], *, order: tuple[str, ...], cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """One page of ``qs`` in ``order`` (whose last field is unique; "-field" descends) and the next cursor."""
    if cursor:
        qs = qs.filter(_after(order, _decode(cursor, order)))
    rows = list(qs.order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _encode([getattr(last, name.lstrip("-")) for name in order])
