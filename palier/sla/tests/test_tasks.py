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


def test_resolved_tickets_without_clocks_get_them_settled_by_hand_count(frozen: Frozen, requester: User) -> None:
    """P3 (medium × medium): first response 240, resolution 1,620 business minutes, Mon-Fri
    09:00-18:00 Paris, French holidays (Easter Monday 6 April 2026)."""
    quick, late, dropped = (open_ticket(requester, impact="medium", urgency="medium") for _ in range(3))
    Clock.objects.all().delete()
    SlaEvent.objects.all().delete()
    S = Ticket.Status
    # quick: answered after an hour, resolved the next morning: 540 + 60 = 600 minutes
    Ticket.objects.filter(pk=quick.pk).update(
        status=S.RESOLVED, first_response_at=paris(2026, 4, 1, 10, 0), resolved_at=paris(2026, 4, 2, 10, 0)
    )
    # late: never answered, resolved Tuesday 7 April 12:00: 3 × 540 + (Easter Monday) + 180 = 1,800
    Ticket.objects.filter(pk=late.pk).update(status=S.CLOSED, resolved_at=paris(2026, 4, 7, 12, 0))
    Ticket.objects.filter(pk=dropped.pk).update(status=S.CANCELLED, closed_at=paris(2026, 4, 1, 11, 0))

    assert services.settle_clocks_for_ended_tickets(batch=1) == 2
    assert services.settle_clocks_for_ended_tickets(batch=1) == 0  # once

    def clock(ticket: Ticket, kind: str) -> tuple[object, ...]:
        row = Clock.objects.get(ticket=ticket, kind=kind)
        return row.outcome, round(row.consumed_minutes), row.stopped_at, row.breached_at

    K = Clock.Kind
    assert clock(quick, K.RESPONSE) == ("met", 60, paris(2026, 4, 1, 10, 0), None)
    assert clock(quick, K.RESOLUTION) == ("met", 600, paris(2026, 4, 2, 10, 0), None)
    # missed clocks breached when they fell due: Wednesday 13:00, Friday 18:00
    assert clock(late, K.RESPONSE) == ("missed", 1800, paris(2026, 4, 7, 12, 0), paris(2026, 4, 1, 13, 0))
    assert clock(late, K.RESOLUTION) == ("missed", 1800, paris(2026, 4, 7, 12, 0), paris(2026, 4, 3, 18, 0))
    assert not Clock.objects.filter(ticket=dropped).exists()
    assert not Clock.objects.filter(next_event_at__isnull=False).exists()  # nothing left for the sweep
