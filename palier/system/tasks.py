"""Background tasks of the system app."""

from __future__ import annotations

from django_tasks import task

from palier.system import housekeeping


@task()
def housekeeping_task() -> dict[str, int | str]:
    """Prune old task results; move orphan uploads to the trash, empty the old trash (6-hourly)."""
    report = housekeeping.run()
    return {
        "task_results": report.task_results, "orphan_files": report.orphan_files,
        "trash_purged": report.trash_purged, "warning": report.warning,
    }  # fmt: skip
