"""Issue #4: an SLA breach fires exactly once while three real `palier worker` processes run the
sweep at the same time (database queue; SQLite file or the PostgreSQL test database)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from palier.notifications.models import Notification
from palier.people.models import User
from palier.sla.models import Clock
from palier.sla.tasks import sla_sweep_task
from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent
from testsupport.processes import DATABASE_TASKS, run_workers, shared_database

SWEEPS = 9
TICKETS = 12


@pytest.mark.django_db(transaction=True)
def test_each_breach_fires_once_with_three_workers_sweeping(
    settings, tmp_path: Path, requester: User, agent: User, manager: User
) -> None:
    settings.TASKS = DATABASE_TASKS
    for i in range(TICKETS):
        tickets.open_ticket(requester=requester, by=requester, subject=f"Printer {i}", impact="high", urgency="high")
    # every clock is long overdue: the next sweeps owe one warning and one breach per clock
    past = timezone.now() - timedelta(days=3)
    Clock.objects.filter(stopped_at__isnull=True).update(
        started_at=past, resumed_at=past, due_at=past, warn_at=past, next_event_at=past
    )
    Ticket.objects.update(created_at=past)
    running = Clock.objects.filter(stopped_at__isnull=True).count()
    assert running >= TICKETS
    with shared_database(tmp_path) as env:
        for _ in range(SWEEPS):  # as if the scheduler fired while workers lagged behind
            sla_sweep_task.enqueue()

        # other jobs run too (the event stream pump, the notification emails): count the sweeps
        sweeps = DBTaskResult.objects.filter(task_path=sla_sweep_task.module_path)

        def all_done() -> bool:
            return sweeps.successful().count() == SWEEPS

        with run_workers(3, env=env, until=all_done, timeout=90) as workers:
            pass
        assert sweeps.successful().count() == SWEEPS, workers.output()
        breaches = TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH)
        assert breaches.count() == running
        assert breaches.values("data__clock").distinct().count() == running
        assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_WARNING).count() == running
        assert not Clock.objects.filter(stopped_at__isnull=True, breached_at__isnull=True).exists()
        # one breach notification per (recipient, clock): the group's manager heard of each once
        sent = Notification.objects.filter(recipient=manager, kind=Notification.Kind.SLA_BREACH)
        assert sent.count() == sent.values("key").distinct().count() > 0
