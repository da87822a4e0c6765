"""Background tasks of the system app."""

from __future__ import annotations

from django_tasks import task

from palier.system import housekeeping


@task()
def housekeeping_task() -> dict[str, int]:
    """Prune old task results and orphan uploads (daily)."""
    report = housekeeping.run()
    return {"task_results": report.task_results, "orphan_files": report.orphan_files}
