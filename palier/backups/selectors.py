"""Reads of the backups app: what the administrators' Backups page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from palier.backups.checks import MAX_AGE
from palier.backups.models import BackupRecord

RECENT = 10


@dataclass(frozen=True)
class BackupStatus:
    folder: str  # PALIER_BACKUP_DIR; empty: no scheduled backup
    keep_daily: int
    keep_weekly: int
    last: BackupRecord | None
    recent: list[BackupRecord]
    now: datetime

    @property
    def configured(self) -> bool:
        return bool(self.folder)

    @property
    def stale(self) -> bool:
        """No successful backup within a day (the W001 deployment check says the same)."""
        return self.last is None or self.now - self.last.finished_at > MAX_AGE


def backup_status() -> BackupStatus:
    recent = list(BackupRecord.objects.order_by("-finished_at")[:RECENT])
    return BackupStatus(
        folder=str(settings.PALIER_BACKUP_DIR or ""),
        keep_daily=settings.PALIER_BACKUP_KEEP_DAILY,
        keep_weekly=settings.PALIER_BACKUP_KEEP_WEEKLY,
        last=recent[0] if recent else None,
        recent=recent,
        now=timezone.now(),
    )


def backup_overdue(*, now: datetime | None = None) -> bool:
    """No successful backup within a day (one indexed query): the administration pages' warning
    and the ``palier_backup_stale`` metric."""
    last = BackupRecord.objects.order_by("-finished_at").values_list("finished_at", flat=True).first()
    return last is None or (now or timezone.now()) - last > MAX_AGE
