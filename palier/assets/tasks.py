"""Background tasks of the assets app."""

from __future__ import annotations

from django_tasks import task

from palier.assets import reminders


@task()
def asset_reminders_task() -> int:
    """Daily: remind owner groups of warranties and licences ending soon (idempotent)."""
    return reminders.send_reminders()
