"""Create and read notifications. Called by routing, escalation and the SLA engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from palier.notifications.models import Notification
from palier.people.models import User


def notify(recipients: Iterable[User | None], *, kind: str, ticket: Any = None, key: str = "", **data: Any) -> int:
    """Notify each active recipient once. With ``key``, a repeated call (a retried job) adds nothing.

    Returns how many recipients were addressed (including ones already notified under ``key``).
    """
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, ticket=ticket, kind=kind, key=key, data=data))
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    return len(rows)


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
