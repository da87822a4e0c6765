"""Per-ticket facts: what the flow figures need of each ticket's history, stored once per ticket so
a dashboard reads one narrow row per ticket instead of the history (docs/reports.md, "Where the
figures come from").

The facts are derived data. Their definitions are the live figures' own, written once below as
query expressions (what ``PALIER_REPORTS_SOURCE=live`` computes) and evaluated in Python by
``recompute`` from plain reads by ticket; ``tests/test_facts.py`` holds the two equal after random
sequences of real changes. They are kept current by the ``reports`` consumer of the ticket
event stream (``palier/events.py``): every batch of events recomputes, from the history, the facts
of the tickets it touches, whole (idempotent: a batch delivered twice writes the same rows).

A desk that existed before the facts is backfilled by the ``reports-facts`` periodic job (a chunk
of tickets per run, oldest first) or at once by ``palier reportfacts --rebuild``; until the
backfill is done, and whenever ``PALIER_REPORTS_SOURCE`` is ``live``, the figures are computed live.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from palier.people.models import User
from palier.reports.filters import Scope
from palier.reports.models import FactsState, Resolution, StateInterval, TicketFacts
from palier.tickets.models import Comment, Ticket, TicketEvent

E = TicketEvent.Kind
RESOLVED = Ticket.Status.RESOLVED.value
OPEN = [status.value for status in Ticket.OPEN_STATUSES]
AGENT_ROLES = (User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN)
UNASSIGNED = StateInterval.State.UNASSIGNED.value
PENDING_VENDOR = Ticket.Status.PENDING_VENDOR.value
HISTORY_KINDS = (E.CREATED, E.CHANGED, E.STATUS, E.ESCALATED)  # the events the facts read
BACKFILL_CHUNK = 2_000  # tickets per statement group of the backfill
BACKFILL_PER_RUN = 50_000  # tickets per run of the periodic job

# --- the definitions, shared with the live figures -------------------------------------------------


def history_flags() -> dict[str, Any]:
    """Per ticket (annotations on a Ticket query): escalated ever, reopened ever, public replies
    by agents."""
    escalated = TicketEvent.objects.filter(ticket_id=OuterRef("pk"), kind=E.ESCALATED)
    reopened = TicketEvent.objects.filter(
        ticket_id=OuterRef("pk"), kind=E.STATUS, data__old=RESOLVED, data__new__in=OPEN
    )
    replies = (
        Comment.objects.filter(ticket_id=OuterRef("pk"), is_internal=False, author__role__in=AGENT_ROLES)
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return {
        "was_escalated": Exists(escalated),
        "was_reopened": Exists(reopened),
        "public_replies": Coalesce(Subquery(replies, output_field=IntegerField()), Value(0)),
    }


def first_assignment() -> Subquery:
    """When the ticket's current assignee was first given it: the earliest ``created`` event
    naming them as assignee or ``changed`` event setting them (events keep display names)."""
    name = Coalesce(NullIf(OuterRef("assignee__full_name"), Value("")), OuterRef("assignee__email"))
    events = (
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"), kind__in=[E.CREATED, E.CHANGED])
        .annotate(
            set_to=Cast(KT("data__new"), output_field=CharField()),
            opened_with=Cast(KT("data__assignee"), output_field=CharField()),
        )
        .filter(Q(kind=E.CHANGED, data__field="assignee", set_to=name) | Q(kind=E.CREATED, opened_with=name))
        .order_by("created_at", "id")
        .values("created_at")[:1]
    )
    return Subquery(events)


def resolutions() -> Any:
    """The resolution events (a status event to "resolved"), each with whether the ticket was
    reopened after it (a status event from "resolved" back to an open status, later)."""
    reopened_later = TicketEvent.objects.filter(
        ticket_id=OuterRef("ticket_id"),
        kind=E.STATUS,
        data__old=RESOLVED,
        data__new__in=OPEN,
        created_at__gt=OuterRef("created_at"),
    )
    return (
        TicketEvent.objects.filter(kind=E.STATUS, data__new=RESOLVED)
        .annotate(reopened_after=Exists(reopened_later))
        .order_by()
    )


# --- reading ------------------------------------------------------------------------------------------


def in_use() -> bool:
    """Whether the figures read the facts (every ticket has them, and the operator did not ask for
    live figures). One read by primary key."""
    if getattr(settings, "PALIER_REPORTS_SOURCE", "facts") == "live":
        return False
    return FactsState.objects.filter(pk=1, built=True).exists()


def use_facts(scope: Scope) -> bool:
    """``in_use()``, asked once per page (the scope lives for one request)."""
    if "reports.facts" not in scope.memo:
        scope.memo["reports.facts"] = in_use()
    return bool(scope.memo["reports.facts"])


def in_state_at(tickets: Any, state: str, moment: datetime, *, stored: bool) -> int:
    """How many of ``tickets`` (a Ticket query) were in ``state`` (unassigned while open, or pending
    a vendor) at ``moment``: from the stored intervals, or live from the tickets' histories (give
    only the tickets that may have been open then: each one's history is read)."""
    if stored:
        return (
            StateInterval.objects.filter(ticket__in=tickets, state=state, start__lte=moment)
            .filter(Q(end__gt=moment) | Q(end__isnull=True))
            .count()
        )
    count = 0
    candidates = tickets.filter(created_at__lte=moment).order_by("pk").values_list("pk", flat=True)
    ids = list(candidates)
    for start in range(0, len(ids), BACKFILL_CHUNK):
        chunk = ids[start : start + BACKFILL_CHUNK]
        histories: dict[int, list[Step]] = {pk: [] for pk in chunk}
        for ticket_id, kind, data, at, pk in (
            TicketEvent.objects.filter(ticket_id__in=chunk, kind__in=HISTORY_KINDS)
            .order_by()
            .values_list("ticket_id", "kind", "data", "created_at", "pk")
        ):
            histories[ticket_id].append((kind, data if isinstance(data, dict) else {}, at, pk))
        for history in histories.values():
            history.sort(key=lambda item: (item[2], item[3]))
            count += any(
                kind == state and begin <= moment and (end is None or end > moment)
                for kind, begin, end in intervals(history)
            )
    return count


# --- writing ------------------------------------------------------------------------------------------


Step = tuple[str, dict[str, Any], datetime, int]  # kind, data, when, event id


def intervals(history: list[Step]) -> list[tuple[str, datetime, datetime | None]]:
    """When the ticket was open and unassigned, and when it was pending a vendor, from its events
    in order: the ``created`` event's status and assignee, then status events and assignee
    changes. (state, start, end or None while it lasts); empty stretches are left out."""
    found: list[tuple[str, datetime, datetime | None]] = []
    since: dict[str, datetime | None] = {UNASSIGNED: None, PENDING_VENDOR: None}
    status: str | None = None
    assigned = False
    for kind, data, at, _id in history:
        if kind == E.CREATED:
            status, assigned = data.get("status"), data.get("assignee") is not None
        elif kind == E.STATUS:
            status = data.get("new")
        elif kind == E.CHANGED and data.get("field") == "assignee":
            assigned = data.get("new") is not None
        else:
            continue
        for state, now_so in (
            (UNASSIGNED, status in OPEN and not assigned),
            (PENDING_VENDOR, status == PENDING_VENDOR),
        ):
            start = since[state]
            if now_so and start is None:
                since[state] = at
            elif not now_so and start is not None:
                if at > start:
                    found.append((state, start, at))
                since[state] = None
    found.extend((state, start, None) for state, start in since.items() if start is not None)
    return found


def _computed(ids: list[int], now: datetime) -> tuple[list[TicketFacts], list[Resolution], list[StateInterval]]:
    """The facts and resolutions of these tickets, from plain reads by ticket (the history's
    ticket index): the definitions above, evaluated in Python so the database never has to plan
    correlated look-ups over the whole history."""
    tickets = {
        pk: _display(full_name, email) if assignee_id else None
        for pk, assignee_id, full_name, email in Ticket.objects.filter(pk__in=ids).values_list(
            "pk", "assignee_id", "assignee__full_name", "assignee__email"
        )
    }
    events: dict[int, list[Step]] = {pk: [] for pk in tickets}
    for ticket_id, kind, data, at, pk in (
        TicketEvent.objects.filter(ticket_id__in=list(tickets), kind__in=HISTORY_KINDS)
        .order_by()
        .values_list("ticket_id", "kind", "data", "created_at", "pk")
    ):
        events[ticket_id].append((kind, data if isinstance(data, dict) else {}, at, pk))
    agents = set(User.objects.filter(role__in=AGENT_ROLES).values_list("pk", flat=True))
    replies: dict[int, int] = dict.fromkeys(tickets, 0)
    for ticket_id, author_id in Comment.objects.filter(ticket_id__in=list(tickets), is_internal=False).values_list(
        "ticket_id", "author_id"
    ):
        if author_id in agents:
            replies[ticket_id] += 1
    facts: list[TicketFacts] = []
    marks: list[Resolution] = []
    stretches: list[StateInterval] = []
    for pk, assignee in tickets.items():
        history = sorted(events[pk], key=lambda item: (item[2], item[3]))
        reopenings = [at for kind, data, at, _id in history if kind == E.STATUS and _is_reopening(data)]
        assigned_at = None
        if assignee is not None:
            assigned_at = next((at for kind, data, at, _id in history if _gives_to(kind, data, assignee)), None)
        facts.append(
            TicketFacts(
                ticket_id=pk,
                was_escalated=any(kind == E.ESCALATED for kind, _data, _at, _id in history),
                was_reopened=bool(reopenings),
                public_replies=replies[pk],
                assigned_at=assigned_at,
                computed_at=now,
            )
        )
        marks.extend(
            Resolution(event_id=event_id, ticket_id=pk, at=at, reopened_after=any(later > at for later in reopenings))
            for kind, data, at, event_id in history
            if kind == E.STATUS and data.get("new") == RESOLVED
        )
        stretches.extend(
            StateInterval(ticket_id=pk, state=state, start=start, end=end) for state, start, end in intervals(history)
        )
    return facts, marks, stretches


def _display(full_name: str | None, email: str | None) -> str | None:
    return full_name or email  # as the events name people: the full name, else the address


def _is_reopening(data: dict[str, Any]) -> bool:
    return data.get("old") == RESOLVED and data.get("new") in OPEN


def _gives_to(kind: str, data: dict[str, Any], name: str) -> bool:
    """A ``created`` event opened with ``name`` as assignee, or a ``changed`` event setting it."""
    if kind == E.CREATED:
        return _text(data.get("assignee")) == name
    return kind == E.CHANGED and data.get("field") == "assignee" and _text(data.get("new")) == name


def _text(value: Any) -> str | None:
    """A JSON value as the database's ``->>`` gives it: strings as they are, null as None, the
    rest as their JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def recompute(ticket_ids: Iterable[int]) -> int:
    """Recompute, whole, the facts and resolutions of these tickets from their history (tickets
    that no longer exist are skipped). Returns the number of tickets written."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return 0
    facts, marks, stretches = _computed(ids, timezone.now())
    found = [fact.ticket_id for fact in facts]
    with transaction.atomic():
        TicketFacts.objects.bulk_create(
            facts,
            update_conflicts=True,
            unique_fields=["ticket"],
            update_fields=["was_escalated", "was_reopened", "public_replies", "assigned_at", "computed_at"],
        )
        Resolution.objects.filter(ticket_id__in=found).delete()
        Resolution.objects.bulk_create(marks)
        StateInterval.objects.filter(ticket_id__in=found).delete()
        StateInterval.objects.bulk_create(stretches)
    return len(facts)


def consume(events: list[TicketEvent]) -> None:
    """The ``reports`` consumer of the event stream: recompute the facts of the touched tickets."""
    for start in range(0, len(events), BACKFILL_CHUNK):
        recompute(event.ticket_id for event in events[start : start + BACKFILL_CHUNK])


def recompute_from(first_id: int) -> int:
    """Recompute the facts of every ticket from ``first_id`` on, in chunks (after a bulk load that
    skipped the stream, such as the demo). Returns the number of tickets written."""
    done, next_id = 0, first_id
    while True:
        ids = list(Ticket.objects.filter(pk__gte=next_id).order_by("pk").values_list("pk", flat=True)[:BACKFILL_CHUNK])
        if not ids:
            return done
        done += recompute(ids)
        next_id = ids[-1] + 1


def _state() -> FactsState:
    state, _created = FactsState.objects.get_or_create(pk=1)
    return state


def backfill(*, limit: int = BACKFILL_PER_RUN) -> int:
    """Give facts to up to ``limit`` tickets of a desk that existed before them, oldest first, and
    mark the facts built when every ticket up to the last one at the start has them. A ticket the
    stream consumer already did is done again, from the same history, to the same rows.
    Returns the number of tickets done."""
    state = _state()
    if state.built:
        return 0
    if not state.backfill_until_id:
        state.backfill_until_id = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    done = 0
    while done < limit and state.backfill_next_id <= state.backfill_until_id:
        ids = list(
            Ticket.objects.filter(pk__gte=state.backfill_next_id, pk__lte=state.backfill_until_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:BACKFILL_CHUNK]
        )
        if not ids:
            state.backfill_next_id = state.backfill_until_id + 1
            break
        done += recompute(ids)
        state.backfill_next_id = ids[-1] + 1
        FactsState.objects.filter(pk=1).update(backfill_next_id=state.backfill_next_id, updated_at=timezone.now())
    if state.backfill_next_id > state.backfill_until_id:
        state.built = True
    state.updated_at = timezone.now()
    state.save()
    return done


def rebuild() -> int:
    """Recompute every ticket's facts now (after a bulk load, or to repair), then mark them built.
    Tickets opened meanwhile are done by the stream consumer."""
    last = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    FactsState.objects.update_or_create(
        pk=1, defaults={"built": False, "backfill_next_id": 0, "backfill_until_id": last, "updated_at": timezone.now()}
    )
    return backfill(limit=2**62)
