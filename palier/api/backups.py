"""The backups' status (administrators): what the Backups page shows, for a monitoring script."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.backups import selectors
from palier.core import selectors as core_selectors

router = Router()


class BackupOut(Schema):
    finished_at: datetime
    kind: str
    path: str
    size: int = Field(description="Bytes.")
    files: int


class OutboxItemOut(Schema):
    id: int
    kind: str
    state: str = Field(description="pending, running or failed (given up).")
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime


class BackupStatusOut(Schema):
    configured: bool = Field(description="Scheduled backups are set up (PALIER_BACKUP_DIR).")
    stale: bool = Field(description="No successful backup within a day.")
    keep_daily: int
    keep_weekly: int
    last: BackupOut | None
    recent: list[BackupOut]
    outbox: list[OutboxItemOut] = Field(description="Work recorded for after commit and not done yet.")


@router.get("/backups/status", response=BackupStatusOut)
def backup_status(request: HttpRequest) -> dict[str, Any]:
    """The last successful backups, whether one is overdue, and the outbox's work not done yet."""
    if not current_user(request).is_admin:
        raise Problem(403, _("Only administrators may manage this through the API."))
    status = selectors.backup_status()
    return {
        "configured": status.configured,
        "stale": status.stale,
        "keep_daily": status.keep_daily,
        "keep_weekly": status.keep_weekly,
        "last": status.last,
        "recent": status.recent,
        "outbox": core_selectors.outbox_backlog(),
    }
