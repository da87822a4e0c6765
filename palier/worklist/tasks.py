"""Background tasks of the worklist: a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.worklist.services import scheduling


@task()
def run_due_task() -> int:
    """Every minute: post the scheduled replies and send the reminders that are due, once each."""
    return scheduling.run_due()
