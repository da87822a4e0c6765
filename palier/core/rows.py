"""Row locks for any model, for the interfaces that must compare a version before a write."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

M = TypeVar("M", bound=Model)


def locked(obj: M) -> M:
    """``obj`` read again under a row lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write
    transaction already serialises writers). Call it inside a transaction."""
    return type(obj)._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)
