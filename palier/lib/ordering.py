"""Ordered lists that admins rearrange (routing rules, automation rules): move one row up or down."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


def move(queryset: models.QuerySet[M], pk: int, *, up: bool, field: str = "position") -> M:
    """Swap row ``pk`` with the one above (``up``) or below it and renumber ``field`` 0..n, with the
    rows locked. Call inside a transaction. Returns the moved row."""
    ordered = list(queryset.select_for_update().order_by(field, "id"))
    index = next(i for i, other in enumerate(ordered) if other.pk == pk)
    target = index - 1 if up else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, other in enumerate(ordered):
        if getattr(other, field) != position:
            setattr(other, field, position)
            other.save(update_fields=[field])
    return ordered[target if 0 <= target < len(ordered) else index]


def reorder(queryset: models.QuerySet[M], ids: list[int], *, field: str = "position", start: int = 0) -> list[M]:
    """Put the rows of ``queryset`` in the order of ``ids``, which must name each of them exactly
    once, numbering ``field`` from ``start``, rows locked. Call inside a transaction. A list with a
    duplicate, an unknown or a missing id is refused with a ``ValidationError`` on ``ids`` saying
    which, and nothing changes."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    rows = {row.pk: row for row in queryset.select_for_update().order_by(field, "id")}
    if len(set(ids)) != len(ids):
        raise ValidationError({"ids": _("Each id must appear once: this list repeats one.")})
    if set(ids) - set(rows):
        raise ValidationError({"ids": _("This list names an id that does not exist.")})
    if set(rows) - set(ids):
        raise ValidationError({"ids": _("Send every id, in the new order: this list leaves some out.")})
    ordered = [rows[pk] for pk in ids]
    for position, row in enumerate(ordered, start=start):
        if getattr(row, field) != position:
            setattr(row, field, position)
            row.save(update_fields=[field])
    return ordered
