"""Background tasks of automation: ids and plain data in, idempotent, a service call each."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from palier.automation import services


@task()
def deliver_webhook_task(url: str, body: str, signature: str, delivery: str, attempt: int = 1) -> bool:
    """A webhook queued by an earlier version (before the outbox): handed to the outbox."""
    services.adopt_webhook(url=url, body=body, signature=signature, delivery=delivery)
    return True


@task()
def automation_tick_task() -> dict[str, Any]:
    """Every minute: broken rules off, time-based rules (tickets in a status for a time, changes
    starting soon), due recurring tickets (SLA warnings and breaches are ticket events: the stream
    consumer runs their rules)."""
    return {
        "turned_off": services.check_references(),
        "timers": services.run_timers(),
        "changes_starting": services.run_start_soon(),
        "recurring": services.run_due_recurring(),
    }
