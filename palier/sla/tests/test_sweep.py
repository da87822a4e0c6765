"""Warnings and breaches fire exactly once, whatever the sweeps, workers and clock jumps do."""

from __future__ import annotations

import importlib.util
import threading
from datetime import timedelta

import pytest
from django.db import connection

from palier.notifications.models import Notification
from palier.people.models import SupportGroup, User
from palier.sla import services
from palier.sla.models import Clock, SlaEvent, SlaPolicy
from palier.sla.tests.conftest import Frozen, clock_of, open_ticket, paris
from palier.tickets.models import Ticket, TicketEvent

K = Clock.Kind
EV = SlaEvent.Kind


FIRED = {TicketEvent.Kind.SLA_WARNING: "warning", TicketEvent.Kind.SLA_BREACH: "breach"}


def _fired(ticket: Ticket) -> list[str]:
    return sorted(
        FIRED[kind]
        for kind in TicketEvent.objects.filter(ticket=ticket, kind__in=TicketEvent.SLA_KINDS).values_list(
            "kind", flat=True
        )
    )


@pytest.mark.django_db
def test_warning_then_breach_fire_once_across_repeated_sweeps(
    frozen: Frozen, requester: User, agent: User, manager: User
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")  # response due 13:00, warning 12:00
    assert services.sweep(now=paris(2026, 4, 1, 11, 59))["selected"] == 0
    counts = services.sweep(now=paris(2026, 4, 1, 12, 0))
    assert (counts["warnings"], counts["breaches"]) == (1, 0)
    assert services.sweep(now=paris(2026, 4, 1, 12, 30))["selected"] == 0
    counts = services.sweep(now=paris(2026, 4, 1, 13, 0))
    assert (counts["warnings"], counts["breaches"]) == (0, 1)
    for _ in range(3):
        assert services.sweep(now=paris(2026, 4, 1, 14, 0))["selected"] == 0
    assert _fired(ticket) == ["breach", "warning"]
    response = clock_of(ticket, K.RESPONSE)
    assert response.warned_at == paris(2026, 4, 1, 12, 0) and response.breached_at == paris(2026, 4, 1, 13, 0)
    assert response.next_event_at is None
    # P3: warning to the assignee and the group (the L1 agent), breach to the group's manager
    assert set(Notification.objects.values_list("recipient__email", "kind")) == {
        ("lea@desk.test", Notification.Kind.SLA_WARNING),
        ("nina@desk.test", Notification.Kind.SLA_BREACH),
    }


@pytest.mark.django_db
def test_a_clock_jump_forward_fires_both_once_and_back_fires_nothing(
    frozen: Frozen, requester: User, agent: User
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    far = services.sweep_all(now=paris(2026, 6, 1, 9, 0))
    assert far["warnings"] == 2 and far["breaches"] == 2  # response and resolution
    back = services.sweep(now=paris(2026, 4, 1, 12, 30))
    assert back["selected"] == 0
    assert services.sweep(now=paris(2026, 6, 2, 9, 0))["selected"] == 0
    assert _fired(ticket) == ["breach", "breach", "warning", "warning"]
    assert Notification.objects.filter(kind=Notification.Kind.SLA_WARNING).count() == 2  # one per clock


@pytest.mark.django_db
def test_overlapping_sweeps_and_a_retried_batch_do_not_fire_twice(frozen: Frozen, requester: User, agent: User) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    response = clock_of(ticket, K.RESPONSE)
    first = services.sweep(now=paris(2026, 4, 1, 13, 0))
    # a second worker that read the clock before the first one moved it on: the constraint refuses
    Clock.objects.filter(pk=response.pk).update(warned_at=None, breached_at=None, next_event_at=response.warn_at)
    second = services.sweep(now=paris(2026, 4, 1, 13, 0))
    assert first["breaches"] == 1 and second["selected"] == 1 and second["breaches"] == 0
    assert _fired(ticket).count("breach") == 1
    assert Notification.objects.count() == first["notifications"]


@pytest.mark.django_db
def test_a_paused_clock_does_not_breach(frozen: Frozen, requester: User, agent: User) -> None:
    from palier.tickets import services as tickets

    ticket = open_ticket(requester, impact="medium", urgency="medium")
    frozen.set(paris(2026, 4, 1, 10, 0))
    tickets.transition_ticket(ticket, to="pending_vendor", by=agent)
    assert services.sweep(now=paris(2026, 4, 30, 9, 0))["selected"] == 0
    assert _fired(ticket) == []


@pytest.mark.django_db
def test_breach_actions_raise_priority_with_history(frozen: Frozen, requester: User, agent: User) -> None:
    SlaPolicy.objects.filter(name="P4 - Low").update(breach_actions=[{"action": "raise_priority"}])
    ticket = open_ticket(requester)
    services.sweep_all(now=paris(2026, 4, 1, 17, 0))
    ticket.refresh_from_db()
    assert ticket.priority == 3 and ticket.version == 2
    event = TicketEvent.objects.get(ticket=ticket, data__field="priority")
    assert (event.data["old"], event.data["new"], event.data["reason"], event.actor) == (4, 3, "sla-breach", None)
    # the raised ticket falls under P3 now, with history, and the new target counts what was used
    assert clock_of(ticket, K.RESOLUTION).policy.name == "P3 - Medium"
    assert SlaEvent.objects.filter(ticket=ticket, kind=EV.POLICY_CHANGED).count() == 2
    services.sweep_all(now=paris(2026, 4, 1, 17, 0))
    ticket.refresh_from_db()
    assert ticket.priority == 3  # the breach fired once, so the priority rose once


@pytest.mark.django_db
@pytest.mark.skipif(
    importlib.util.find_spec("palier.routing.services") is None, reason="needs palier.routing.services.escalate"
)
def test_breach_escalates_to_the_chosen_group(frozen: Frozen, requester: User, agent: User, l2: SupportGroup) -> None:
    SlaPolicy.objects.filter(name="P4 - Low").update(breach_actions=[{"action": "escalate_group", "group": l2.pk}])
    ticket = open_ticket(requester)
    services.sweep_all(now=paris(2026, 4, 1, 17, 0))
    ticket.refresh_from_db()
    assert ticket.group_id == l2.pk
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).exists()


@pytest.mark.django_db
def test_escalating_to_a_level_the_ticket_already_reached_does_nothing(
    frozen: Frozen, requester: User, agent: User, l2: SupportGroup, agent_l2: User
) -> None:
    SlaPolicy.objects.filter(name="P4 - Low").update(breach_actions=[{"action": "escalate_level", "level": 2}])
    ticket = open_ticket(requester)
    Ticket.objects.filter(pk=ticket.pk).update(group=l2)  # already handled at L2
    counts = services.sweep_all(now=paris(2026, 4, 1, 17, 0))
    ticket.refresh_from_db()
    assert counts["breaches"] == 1 and ticket.group_id == l2.pk
    assert not TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).exists()
    assert not SlaEvent.objects.filter(ticket=ticket, kind=EV.PROBLEM).exists()


@pytest.mark.django_db
def test_an_action_on_a_deleted_group_is_recorded_not_raised(frozen: Frozen, requester: User, agent: User) -> None:
    SlaPolicy.objects.filter(name="P4 - Low").update(breach_actions=[{"action": "escalate_group", "group": 999_999}])
    ticket = open_ticket(requester)
    counts = services.sweep_all(now=paris(2026, 4, 1, 17, 0))
    assert counts["breaches"] == 1
    assert SlaEvent.objects.filter(ticket=ticket, kind=EV.PROBLEM, data__problem="action").exists()


@pytest.mark.django_db
def test_the_sweep_of_a_batch_costs_a_constant_number_of_queries(
    frozen: Frozen, requester: User, agent: User, manager: User, django_assert_max_num_queries: object
) -> None:
    for _ in range(12):
        open_ticket(requester, impact="medium", urgency="medium")
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        counts = services.sweep(now=paris(2026, 4, 1, 13, 0))
    assert counts["selected"] == 12 and counts["breaches"] == 12


@pytest.mark.django_db
def test_the_ticket_keeps_its_earliest_running_due(frozen: Frozen, requester: User, agent: User) -> None:
    ticket = open_ticket(requester)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == clock_of(ticket, K.RESPONSE).due_at


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_three_workers_fire_each_breach_once(requester: User, agent: User) -> None:
    """Real parallel sweeps (own connections, SKIP LOCKED): every breach exactly once."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the parallel case needs PostgreSQL")
    from django.db import connections

    tickets = [open_ticket(requester, impact="medium", urgency="medium") for _ in range(30)]
    later = max(clock_of(t, K.RESOLUTION).due_at for t in tickets) + timedelta(minutes=1)  # type: ignore[operator]
    start = threading.Barrier(3)
    results: list[dict[str, int]] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(services.sweep_all(now=later, batch=7))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.get("breaches", 0) for r in results) == 60
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH).count() == 60
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_WARNING).count() == 60
