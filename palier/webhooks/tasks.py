"""Background tasks of the webhooks app: no argument, idempotent."""

from __future__ import annotations

from django_tasks import task

from palier.webhooks.services import delivery


@task()
def deliver_due_task() -> dict[str, int]:
    """After a commit that added deliveries: post what is due, batch after batch."""
    return delivery.run_due()


@task()
def webhooks_task() -> dict[str, int]:
    """Periodic: retries that are due, deliveries a dead worker left, a queue outage caught up;
    old deliveries forgotten."""
    totals = delivery.run_due()
    totals["pruned"] = delivery.prune()
    return totals
