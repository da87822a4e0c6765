"""The only writer of ``ChangeEvent``: called inside the service's transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from palier.assets.history import plain
from palier.people.models import User

from .models import Change, ChangeEvent

# called with each new event, in the recording transaction (``CHANGE_EVENT_RECORDED`` in
# ``palier/events.py``): the higher apps that react to a change's history (automation, webhooks)
ON_RECORDED: list[Callable[[ChangeEvent], None]] = []


def record(change: Change, kind: str, *, actor: User | None, data: Mapping[str, Any] | None = None) -> ChangeEvent:
    event = ChangeEvent.objects.create(
        change=change,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        data=plain(dict(data or {})),
    )
    for hook in ON_RECORDED:
        hook(event)
    return event
