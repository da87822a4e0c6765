"""Background work of the data export (ids in, idempotent: a job runs once)."""

from __future__ import annotations

from django_tasks import task

from palier.dataexport import jobs


@task()
def run_data_export_task(export_id: int) -> None:
    jobs.run_export(export_id)


@task()
def prune_data_exports_task() -> None:
    jobs.prune_exports()
