"""Start clocks for many tickets at once (demo data, or tickets that predate the SLA engine)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from palier.people.models import SupportGroup
from palier.sla.models import Calendar, Clock, SlaEvent, SlaPolicy
from palier.sla.services import clocks as c
from palier.sla.services.engine import State, _enter_group, default_calendar, sla_due
from palier.sla.services.policies import active_policies, matches
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Ticket

K = Clock.Kind
# what the bulk starts read of a ticket (the policy match, the clocks' start and stop instants)
TICKET_FIELDS = (
    "id",
    "kind",
    "priority",
    "category_id",
    "organisation_id",
    "group_id",
    "status",
    "created_at",
    "first_response_at",
    "resolved_at",
)


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
            tickets = _without_clocks(Q(status__in=Ticket.OPEN_STATUSES), after=last_id, batch=batch)
            if not tickets:
                return total
            last_id = tickets[-1].pk
            _start_many(tickets, policies, parents, groups, fallback)
            total += len(tickets)


def _without_clocks(condition: Q, *, after: int, batch: int) -> list[Ticket]:
    """The next ``batch`` tickets matching ``condition`` that have no clock, by id after ``after``."""
    return list(
        Ticket.objects.filter(condition, pk__gt=after)
        .exclude(Exists(Clock.objects.filter(ticket_id=OuterRef("pk"))))
        .order_by("pk")
        .only(*TICKET_FIELDS)[:batch]
    )


def _save(new: list[Clock], events: list[SlaEvent]) -> None:
    """Insert the clocks, then their timeline rows (which need the clocks' ids)."""
    Clock.objects.bulk_create(new, batch_size=1000)
    for event in events:
        if event.clock is not None:
            event.clock_id = event.clock.pk
    SlaEvent.objects.bulk_create(events, batch_size=1000)


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
    _save(new, events)
    ticket_services.set_sla_dues(dues)


ENDED = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


def settle_clocks_for_ended_tickets(*, batch: int = 2000) -> int:
    """Give resolved and closed tickets that have no clocks (demo data, tickets imported from
    another desk) the first-response and resolution clocks they would have had: started at
    creation under the matching policy, stopped at the first response and at the resolution,
    judged met or missed, a missed one breached at its due time. The ticket's pauses are not
    replayed (its history may not hold them): waiting time counts as business time. Idempotent;
    returns how many tickets got clocks."""
    policies = active_policies()
    if not policies:
        return 0
    parents = dict(Category.objects.values_list("id", "parent_id"))
    fallback = default_calendar()
    total, last_id = 0, 0
    while True:
        with transaction.atomic():
            tickets = _without_clocks(Q(status__in=ENDED, resolved_at__isnull=False), after=last_id, batch=batch)
            if not tickets:
                return total
            last_id = tickets[-1].pk
            new: list[Clock] = []
            events: list[SlaEvent] = []
            for ticket in tickets:
                policy = next((p for p in policies if matches(p, ticket, _chain(ticket.category_id, parents))), None)
                if policy is None:
                    continue
                run = c.Batch(ticket=ticket, now=ticket.created_at)
                state = State(run, load=False, fallback=fallback)
                state.policy = policy
                state.start(K.RESPONSE, policy.first_response_minutes, policy=policy)
                state.start(K.RESOLUTION, policy.resolution_minutes, policy=policy)
                resolved = ticket.resolved_at or ticket.created_at  # set: the query asks for it
                for kind, moment, reason in (
                    (K.RESPONSE, ticket.first_response_at or resolved, "replied"),
                    (K.RESOLUTION, resolved, "resolved"),
                ):
                    run.now = max(moment, ticket.created_at)
                    state.stop(kind, reason=reason)
                    row = state.clocks[kind]
                    if row.outcome == Clock.Outcome.MISSED and row.due_at is not None:
                        row.breached_at = row.due_at
                new.extend(run.new)
                events.extend(run.events)
                total += 1
            _save(new, events)
