"""Background tasks for notifications: ids in, idempotent, a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.notifications import email


@task()
def send_email_task(outgoing_id: int) -> str:
    """Send one outbox row (does nothing when it is already sent or not yet due for a retry)."""
    return email.send_one(outgoing_id)


@task()
def send_pending_emails_task() -> int:
    """Send every due outbox row: retries, and rows whose first job was lost (periodic)."""
    return email.send_pending()
