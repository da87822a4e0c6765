"""Several tickets opened in one transaction (``open_tickets``) are routed, assigned and timed as
if they had been opened one after the other."""

from __future__ import annotations

from collections import Counter

from django.db import transaction

from palier.routing import services as routing
from palier.routing.tests.conftest import members
from palier.sla.models import Clock
from palier.tickets import search
from palier.tickets import services as tickets
from palier.tickets.models import SearchEntry, Ticket, TicketEvent


def _prepare(requester, count: int, **fields):
    return [
        tickets.prepare_ticket(requester=requester, by=requester, subject=f"Batch ticket {i}", **fields)
        for i in range(count)
    ]


def test_a_batch_gets_consecutive_numbers_events_search_entries_and_clocks(requester, triage):
    with transaction.atomic():
        opened = tickets.open_tickets(_prepare(requester, 5, description="Le VPN coupe", impact="high"))
    numbers = [t.number for t in opened]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    assert [t.subject for t in opened] == [f"Batch ticket {i}" for i in range(5)]
    assert {t.priority for t in opened} == {3}  # high impact, low urgency in the ITIL matrix
    assert {t.group_id for t in opened} == {triage.pk}
    events = TicketEvent.objects.filter(ticket__in=opened, kind=TicketEvent.Kind.CREATED)
    assert sorted(e.ticket_id for e in events) == sorted(t.pk for t in opened)
    assert SearchEntry.objects.filter(ticket__in=opened, comment__isnull=True).count() == 5
    assert set(Ticket.objects.filter(search.matching("vpn", include_internal=False)).values_list("pk", flat=True)) >= {
        t.pk for t in opened
    }
    # every ticket has its clocks and its due time, as when opened alone
    alone = tickets.open_ticket(requester=requester, by=requester, subject="Alone", impact="high")
    kinds_alone = sorted(Clock.objects.filter(ticket=alone).values_list("kind", flat=True))
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in opened]):
        assert sorted(Clock.objects.filter(ticket=ticket).values_list("kind", flat=True)) == kinds_alone
        assert (ticket.sla_due_at is None) == (alone.sla_due_at is None)


def test_round_robin_in_a_batch_takes_turns_like_one_by_one(make_group, make_rule, requester):
    group = make_group("Desk", strategy="round_robin", agents=3)
    make_rule("All", group)
    with transaction.atomic():
        first = tickets.open_tickets(_prepare(requester, 4))
    with transaction.atomic():
        second = tickets.open_tickets(_prepare(requester, 2))
    order = [t.assignee_id for t in first + second]
    agents = {a.pk for a in members(group)}
    assert set(order[:3]) == agents  # everyone once before anyone twice
    assert order[3] == order[0]  # then the first again, even inside the same batch
    assert Counter(order) == {pk: 2 for pk in agents}
    assert all(t.status == Ticket.Status.ASSIGNED for t in first + second)
    placed = TicketEvent.objects.get(ticket=first[1], kind=TicketEvent.Kind.CREATED).data["placed"]
    assert placed == ["routing rule: All", "assigned by round_robin"]


def test_caps_and_loads_count_the_tickets_of_the_same_batch(make_group, make_rule, requester):
    group = make_group("Capped", strategy="least_loaded", agents=2)
    make_rule("All", group)
    for agent in members(group):
        routing.set_working_hours(agent, by=None, hours=[], max_open_tickets=2)
    with transaction.atomic():
        opened = tickets.open_tickets(_prepare(requester, 6))
    counts = Counter(t.assignee_id for t in opened)
    assert counts == {**{a.pk: 2 for a in members(group)}, None: 2}
    unassigned = [t for t in opened if t.assignee_id is None]
    assert all(t.status == Ticket.Status.NEW for t in unassigned)


def test_a_batch_spans_groups_and_kinds(make_group, make_rule, requester):
    network = make_group("Network", strategy="round_robin", agents=1)
    make_rule("VPN", network, words="vpn")
    items = [
        tickets.prepare_ticket(requester=requester, by=requester, subject="VPN down"),
        tickets.prepare_ticket(requester=requester, by=requester, subject="New laptop", kind="request"),
        tickets.prepare_ticket(requester=requester, by=requester, subject="VPN slow"),
    ]
    with transaction.atomic():
        vpn1, laptop, vpn2 = tickets.open_tickets(items)
    assert vpn1.group_id == vpn2.group_id == network.pk
    assert vpn1.assignee_id == vpn2.assignee_id == members(network)[0].pk
    assert laptop.reference.startswith("REQ-") and vpn1.reference.startswith("INC-")
    assert vpn2.number == vpn1.number + 1


def test_alike_clocks_of_a_batch_are_planned_once_and_each_ticket_keeps_its_own(requester):
    from palier.sla.models import SlaEvent

    impacts = ["high", "low", "high", "low", "high"]
    with transaction.atomic():
        opened = tickets.open_tickets(
            [
                tickets.prepare_ticket(requester=requester, by=requester, subject=f"Mixed {i}", impact=impact)
                for i, impact in enumerate(impacts)
            ]
        )
    alone = {
        impact: tickets.open_ticket(requester=requester, by=requester, subject=f"Alone {impact}", impact=impact)
        for impact in ("high", "low")
    }

    def targets(ticket: Ticket) -> dict[str, int]:
        return dict(Clock.objects.filter(ticket=ticket).values_list("kind", "target_minutes"))

    for ticket, impact in zip(opened, impacts, strict=True):
        # the targets follow each ticket's priority, as when it is opened alone
        assert targets(ticket) == targets(alone[impact])
    assert targets(opened[0]) != targets(opened[1])  # the seeded policies differ by priority
    started = SlaEvent.objects.filter(ticket__in=opened, kind=SlaEvent.Kind.STARTED)
    assert started.count() == sum(len(targets(t)) for t in opened)
    # each timeline row explains its own clock's due time
    for event in started.select_related("clock"):
        assert event.clock_id is not None and event.data["target"] == event.clock.target_minutes
        assert event.data["due"] == event.clock.due_at.isoformat()
