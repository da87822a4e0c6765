"""Background tasks of the catalog: a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.catalog.services import approvals


@task()
def remind_approvals_task() -> int:
    """Every 15 minutes: remind, once, the approvers still pending after the subject's delay."""
    return approvals.send_reminders()
