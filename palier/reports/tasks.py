"""Background tasks of the reports app: ids in, idempotent, a service call each."""

from __future__ import annotations

from django_tasks import task

from palier.reports import services

# --- scheduled summaries and exports ------------------------------------------------------------------


@task()
def run_report_subscriptions_task() -> int:
    """Every 5 minutes: send the summaries and exports whose slot has come (each slot once)."""
    return services.run_due_subscriptions()
