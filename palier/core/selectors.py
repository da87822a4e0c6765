"""Reads of the shared machinery for the administrators' pages."""

from __future__ import annotations

from palier.core.models import OutboxItem


def outbox_backlog(*, limit: int = 50) -> list[OutboxItem]:
    """The outbox items not done yet (waiting, running, failed), oldest first."""
    return list(OutboxItem.objects.exclude(state=OutboxItem.State.DONE).order_by("created_at", "pk")[:limit])
