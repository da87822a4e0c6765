"""The periodic sweep task and the bulk start used by the demo data."""

from __future__ import annotations

import pytest

from palier.lib import schedule
from palier.people.models import User
from palier.sla import services
from palier.sla.models import Clock, SlaEvent
from palier.sla.tasks import sla_sweep_task
from palier.sla.tests.conftest import Frozen, open_ticket, paris
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_sweep_is_a_periodic_job_every_30_seconds() -> None:
    job = next(j for j in schedule.jobs() if j.name == "sla-sweep")
    assert job.seconds == 30


def test_the_task_sweeps_until_nothing_is_due(frozen: Frozen, requester: User, agent: User) -> None:
    for _ in range(3):
        open_ticket(requester, impact="medium", urgency="medium")
    frozen.set(paris(2026, 6, 1, 9, 0))
    result = sla_sweep_task.enqueue()
    assert result.return_value["breaches"] == 6
    assert not Clock.objects.filter(next_event_at__isnull=False).exists()


def test_bulk_start_gives_open_tickets_without_clocks_their_clocks_once(frozen: Frozen, requester: User) -> None:
    opened = [open_ticket(requester, impact="medium", urgency="medium") for _ in range(3)]
    Clock.objects.all().delete()
    SlaEvent.objects.all().delete()
    Ticket.objects.update(sla_due_at=None)
    assert services.start_clocks_for_open_tickets(batch=2) == 3
    assert services.start_clocks_for_open_tickets(batch=2) == 0
    assert Clock.objects.filter(kind=Clock.Kind.RESPONSE).count() == 3
    ticket = Ticket.objects.get(pk=opened[0].pk)
    assert ticket.sla_due_at == paris(2026, 4, 1, 13, 0)
    assert SlaEvent.objects.filter(kind=SlaEvent.Kind.STARTED).count() == 6
