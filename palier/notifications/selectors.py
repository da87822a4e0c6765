"""Reads of notifications for the pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from palier.notifications.models import Notification
from palier.people.models import User


def inbox(user: User, *, unread_only: bool = False, limit: int = 50) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("ticket")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs[:limit]


def unread_count(user: User, cap: int = 100) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)[:cap].count()
