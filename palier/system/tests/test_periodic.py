from __future__ import annotations

import threading
from datetime import timedelta

from django.utils import timezone

from palier.system import periodic
from palier.tickets import services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket


def test_scheduler_enqueues_the_close_job_which_closes_expired_resolved_tickets(
    requester, agent, django_capture_on_commit_callbacks
):
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=agent)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    stop = threading.Event()
    calls = []

    def clock() -> float:
        calls.append(1)
        if len(calls) > 1:
            stop.set()
        return 0.0

    periodic.run_scheduler(stop, tick=0, clock=clock)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert ticket.events.filter(kind="status", data__new="closed", actor__isnull=True).exists()
