"""Time-based rules: "the ticket has been in status X for N hours", e.g. pending requester for 72
business hours, resolved for 7 days.

The period starts when the ticket last changed (``updated_at``), or for resolved tickets when it was
resolved (``resolved_at``). Hours are business hours of the ticket's SLA calendar when the rule
says so and the ticket has one (plain hours otherwise). Candidates come from an indexed query
(status + time, oldest first, in batches): business time never runs faster than wall time, so
"N wall hours ago" is a safe first filter, refined in Python. A ticket is checked once per period:
a ``TimerFiring`` row (unique per rule, ticket and period start) is inserted before the rule runs,
so two workers or a retried job never fire twice, and a ticket that changes starts a new period.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from palier.automation.models import Rule, TimerFiring
from palier.automation.services.engine import Limiter, Occurrence, apply_rule, evaluate
from palier.automation.services.rules import CompiledRule, active_rules, robot
from palier.lib import businesstime as clock
from palier.sla.models import Clock
from palier.sla.services import calendars
from palier.tickets.models import Ticket

log = logging.getLogger(__name__)

BATCH = 500
MAX_BATCHES = 20
S = Ticket.Status


def _since_field(rule: CompiledRule) -> str:
    return "resolved_at" if rule.wait_status == S.RESOLVED else "updated_at"


def _candidates(rule: CompiledRule, now: datetime, after: tuple[datetime, int] | None) -> list[Ticket]:
    since = _since_field(rule)
    cutoff = now - timedelta(hours=rule.wait_hours)
    fired = TimerFiring.objects.filter(rule_id=rule.id, ticket_id=OuterRef("pk"), period_start=OuterRef(since))
    queryset = Ticket.objects.filter(status=rule.wait_status, **{f"{since}__lte": cutoff}).filter(~Exists(fired))
    if after is not None:
        queryset = queryset.filter(**{f"{since}__gt": after[0]}) | queryset.filter(
            **{since: after[0], "pk__gt": after[1]}
        )
    return list(queryset.select_related("requester", "group", "assignee").order_by(since, "pk")[:BATCH])


def _calendars(tickets: list[Ticket]) -> dict[int, clock.Calendar]:
    """The SLA calendar of each ticket that has one (its resolution clock's, else any clock's)."""
    rows = (
        Clock.objects.filter(ticket_id__in=[t.pk for t in tickets], calendar__isnull=False)
        .select_related("calendar")
        .order_by("ticket_id", "-started_at")
    )
    found: dict[int, clock.Calendar] = {}
    preferred: set[int] = set()
    for row in rows:
        if row.ticket_id in preferred or row.calendar is None:
            continue
        try:
            found[row.ticket_id] = calendars.build(row.calendar)
        except (clock.CalendarError, ValueError):
            continue
        if row.kind == Clock.Kind.RESOLUTION:
            preferred.add(row.ticket_id)
    return found


def _elapsed(
    rule: CompiledRule, ticket: Ticket, start: datetime, now: datetime, cals: dict[int, clock.Calendar]
) -> bool:
    cal = cals.get(ticket.pk) if rule.wait_business else None
    if cal is None:
        return now - start >= timedelta(hours=rule.wait_hours)
    try:
        return clock.business_minutes_between(cal, start, now) >= rule.wait_hours * 60
    except (clock.CalendarError, ValueError):
        return now - start >= timedelta(hours=rule.wait_hours)


def _claim(rule: CompiledRule, ticket: Ticket, start: datetime, now: datetime) -> bool:
    try:
        with transaction.atomic():
            TimerFiring.objects.create(rule_id=rule.id, ticket=ticket, period_start=start, at=now)
    except IntegrityError:
        return False
    return True


def _run_rule(rule: CompiledRule, now: datetime) -> int:
    fired = 0
    after: tuple[datetime, int] | None = None
    since = _since_field(rule)
    actor = None
    for _batch in range(MAX_BATCHES):
        tickets = _candidates(rule, now, after)
        if not tickets:
            break
        cals = _calendars(tickets) if rule.wait_business else {}
        due = [t for t in tickets if _elapsed(rule, t, getattr(t, since), now, cals)]
        found = [Occurrence(ticket=t, trigger=Rule.Trigger.TIMER) for t in due]
        matched = {id(o) for o, _r in evaluate(found, [rule], now=now)}
        limiter = Limiter(now)
        for occurrence in found:
            ticket = occurrence.ticket
            start = getattr(ticket, since)
            with transaction.atomic():
                if not _claim(rule, ticket, start, now) or id(occurrence) not in matched:
                    continue
                actor = actor or robot()
                apply_rule(rule, occurrence, actor=actor, limiter=limiter, now=now, period=start.isoformat())
                fired += 1
        last = tickets[-1]
        after = (getattr(last, since), last.pk)
        if len(tickets) < BATCH:
            break
    return fired


def run_timers(*, now: datetime | None = None) -> int:
    """Fire the time-based rules that are due. Idempotent. Returns how many rule runs."""
    now = now or timezone.now()
    total = 0
    for rule in active_rules():
        if rule.trigger != Rule.Trigger.TIMER or not rule.wait_status or not rule.wait_hours:
            continue
        total += _run_rule(rule, now)
    return total
