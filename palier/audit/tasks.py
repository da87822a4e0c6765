"""Background tasks of the audit log."""

from __future__ import annotations

from django_tasks import task

from palier.audit import services


@task()
def prune_audit_task() -> int:
    """Periodic: remove the audit events older than ``PALIER_AUDIT_DAYS`` days."""
    return services.prune()
