"""Start clocks for many tickets at once (demo data, or tickets that predate the SLA engine)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Exists, OuterRef

from palier.people.models import SupportGroup
from palier.sla.models import Calendar, Clock, SlaEvent, SlaPolicy
from palier.sla.services import clocks as c
from palier.sla.services.engine import State, _enter_group, default_calendar, sla_due
from palier.sla.services.policies import active_policies, matches
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Ticket

K = Clock.Kind


def start_clocks_for_open_tickets(*, batch: int = 2000) -> int:
    """Start the clocks of open tickets that have none, from their creation time. Idempotent;
    returns how many tickets got clocks. Clocks already overdue fire at the next sweep."""
    policies = active_policies()
    parents = dict(Category.objects.values_list("id", "parent_id"))
    groups = SupportGroup.objects.in_bulk()
    fallback = default_calendar()
    total, last_id = 0, 0
    while True:
        with transaction.atomic():
            tickets = list(
                Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES, pk__gt=last_id)
                .exclude(Exists(Clock.objects.filter(ticket_id=OuterRef("pk"))))
                .order_by("pk")
                .only(
                    "id",
                    "kind",
                    "priority",
                    "category_id",
                    "organisation_id",
                    "group_id",
                    "status",
                    "created_at",
                    "first_response_at",
                )[:batch]
            )
            if not tickets:
                return total
            last_id = tickets[-1].pk
            _start_many(tickets, policies, parents, groups, fallback)
            total += len(tickets)


def _chain(category_id: int | None, parents: Mapping[int, int | None]) -> set[int]:
    chain: set[int] = set()
    current = category_id
    while current is not None and current not in chain:
        chain.add(current)
        current = parents.get(current)
    return chain


def _start_many(
    tickets: list[Ticket],
    policies: list[SlaPolicy],
    parents: Mapping[int, int | None],
    groups: dict[int, SupportGroup],
    fallback: Calendar | None,
) -> None:
    new: list[Clock] = []
    events: list[SlaEvent] = []
    dues: list[Ticket] = []
    for ticket in tickets:
        batch = c.Batch(ticket=ticket, now=ticket.created_at)
        state = State(batch, load=False, fallback=fallback)
        chain = _chain(ticket.category_id, parents)
        policy = next((p for p in policies if matches(p, ticket, chain)), None)
        state.policy = policy
        if policy is not None:
            if ticket.first_response_at is None:
                state.start(K.RESPONSE, policy.first_response_minutes, policy=policy)
            state.start(K.RESOLUTION, policy.resolution_minutes, policy=policy)
        _enter_group(state, groups.get(ticket.group_id) if ticket.group_id else None, fresh=False)
        new.extend(batch.new)
        events.extend(batch.events)
        ticket.sla_due_at = sla_due(batch.new)
        dues.append(ticket)
    Clock.objects.bulk_create(new, batch_size=1000)
    for event in events:
        if event.clock is not None:
            event.clock_id = event.clock.pk
    SlaEvent.objects.bulk_create(events, batch_size=1000)
    ticket_services.set_sla_dues(dues)
