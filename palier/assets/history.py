"""The only writer of ``AssetEvent``: called inside the service's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model

from palier.people.models import User

from .models import Asset, AssetEvent


def plain(value: Any) -> Any:
    """A value as JSON keeps it in an event: objects by their label, dates as ISO text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def record(asset: Asset, kind: str, *, actor: User | None, data: Mapping[str, Any] | None = None) -> AssetEvent:
    return AssetEvent.objects.create(
        asset=asset,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        data=plain(dict(data or {})),
    )


def record_many(events: list[tuple[Asset, str, User | None, Mapping[str, Any]]]) -> None:
    AssetEvent.objects.bulk_create(
        [
            AssetEvent(asset=a, kind=k, actor=u if u is not None and u.pk else None, data=plain(dict(d)))
            for a, k, u, d in events
        ]
    )
