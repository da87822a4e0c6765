"""Background tasks for tickets: ids in, idempotent, a service call and nothing else."""

from __future__ import annotations

from django_tasks import task

from palier.tickets import services


@task()
def close_resolved_tickets_task() -> int:
    """Close tickets whose reopen window has elapsed (run periodically by the worker)."""
    total = 0
    while closed := services.close_resolved_tickets():
        total += closed
    return total


PUMP_SECONDS = 2.0  # per consumer and job; a longer burst continues in the next job


@task()
def pump_stream_task() -> int:
    """Deliver newly committed ticket events to their consumers (notifications, automation)."""
    from palier.tickets import stream

    handled, more = stream.pump_for(PUMP_SECONDS)
    if more:
        stream.pump_again()
    return handled
