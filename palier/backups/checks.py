"""Deployment check of backups (``palier check --deploy``): a desk without a recent backup can
lose years of tickets to one disk failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError
from django.utils import timezone

MAX_AGE = timedelta(days=1)


@register(Tags.security, deploy=True)
def check_recent_backup(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from palier.backups.services import last_backup

    if not str(settings.PALIER_BACKUP_DIR or "").strip():
        return [
            Warning(
                "No scheduled backup is configured.",
                hint="Set PALIER_BACKUP_DIR to a folder on another disk (docs/operations.md, Backups and restore).",
                id="palier.backups.W001",
            )
        ]
    try:
        last = last_backup()
    except DatabaseError:  # not migrated yet
        return []
    if last is None or timezone.now() - last.finished_at > MAX_AGE:
        when = "never" if last is None else f"last at {last.finished_at:%Y-%m-%d %H:%M} UTC"
        return [
            Warning(
                f"No successful backup in the last 24 hours ({when}).",
                hint="Check that the scheduler and a worker run, and the logs of the backup job.",
                id="palier.backups.W001",
            )
        ]
    return []
