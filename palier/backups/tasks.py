"""Background tasks of the backups app."""

from __future__ import annotations

from django_tasks import task

from palier.backups import services


@task()
def scheduled_backup_task() -> dict[str, object]:
    """The daily backup into PALIER_BACKUP_DIR, then the retention (nothing when it is empty)."""
    result = services.scheduled_backup()
    if result is None:
        return {"skipped": True}
    return {"path": str(result.path), "size": result.size, "files": result.files}
