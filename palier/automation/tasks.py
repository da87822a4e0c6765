"""Background tasks of automation: ids and plain data in, idempotent, a service call each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tasks import task

from palier.automation import services


@task()
def deliver_webhook_task(url: str, body: str, signature: str, delivery: str, attempt: int = 1) -> bool:
    """Post a signed rule webhook; on a temporary failure queue the next attempt after a delay."""
    delay = services.deliver_webhook(url, body, signature, delivery, attempt=attempt)
    if delay is None:
        return True
    again = deliver_webhook_task
    if again.get_backend().supports_defer:
        again = again.using(run_after=timezone.now() + timedelta(seconds=delay))
    again.enqueue(url, body, signature, delivery, attempt + 1)
    return False


@task()
def automation_tick_task() -> dict[str, Any]:
    """Every minute: broken rules off, time-based rules, due recurring tickets (SLA warnings and
    breaches are ticket events: the stream consumer runs their rules)."""
    return {
        "turned_off": services.check_references(),
        "timers": services.run_timers(),
        "recurring": services.run_due_recurring(),
    }
