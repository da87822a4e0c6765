"""Background tasks of the identity app."""

from __future__ import annotations

from django_tasks import task

from palier.identity import directory


@task()
def directory_sync_task() -> dict[str, object]:
    """Sync every enabled directory whose sync is on (``directory-sync``, hourly)."""
    runs = directory.sync_all()
    return {run.provider.slug: run.status for run in runs}
