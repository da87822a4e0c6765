"""Background tasks of the inventory intake."""

from __future__ import annotations

from django_tasks import task

from palier.assets.inventory import reports


@task()
def prune_inventory_reports_task() -> int:
    """Delete old inventory reports past their retention (periodic)."""
    return reports.prune()
