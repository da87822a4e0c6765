"""Background tasks of the reports app: ids in, idempotent, a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.reports import facts, services

# --- scheduled summaries and exports ------------------------------------------------------------------


@task()
def run_report_subscriptions_task() -> int:
    """Every 5 minutes: send the summaries and exports whose slot has come (each slot once)."""
    return services.run_due_subscriptions()


# --- background ticket exports ------------------------------------------------------------------------


@task()
def run_export_task(job_id: int) -> str:
    """Write one background export's file (does nothing when the job already ran or is running)."""
    job = services.run_export(job_id=job_id)
    return job.state if job is not None else "gone"


@task()
def recover_exports_task() -> int:
    """Every 5 minutes: queue again the exports whose worker died mid-way (periodic)."""
    return services.recover_stalled_exports()


@task()
def prune_exports_task() -> int:
    """Remove export files and jobs older than a week (periodic)."""
    return services.prune_exports()


# --- per-ticket facts ---------------------------------------------------------------------------------


@task()
def backfill_facts_task() -> int:
    """Every minute until done: give the next chunk of an existing desk's tickets their facts."""
    return facts.backfill()
