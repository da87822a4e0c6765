"""The only writer of ``ChangeEvent``: called inside the service's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from palier.assets.history import plain
from palier.people.models import User

from .models import Change, ChangeEvent


def record(change: Change, kind: str, *, actor: User | None, data: Mapping[str, Any] | None = None) -> ChangeEvent:
    return ChangeEvent.objects.create(
        change=change,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        data=plain(dict(data or {})),
    )
