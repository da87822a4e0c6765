"""Background tasks of the SLA engine: idempotent, a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.sla import services


@task()
def sla_sweep_task() -> dict[str, int]:
    """Fire the due SLA warnings and breaches, batch after batch until nothing is due (every 30 s)."""
    return services.sweep_all()
