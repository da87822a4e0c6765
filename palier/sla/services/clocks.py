"""Clock primitives: start, pause, resume, stop and re-target one clock, each leaving a timeline row.

They change the :class:`Clock` instance in memory and append :class:`SlaEvent` rows to a
:class:`Batch`; the caller saves both (see ``engine.py``), so one ticket change costs a few queries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from palier.lib import businesstime as clock
from palier.people.models import SupportGroup
from palier.sla.models import DEFAULT_PAUSE_STATUSES, Calendar, Clock, SlaEvent, SlaPolicy
from palier.sla.services import calendars
from palier.tickets.models import Ticket

logger = logging.getLogger("palier.sla")

K = Clock.Kind
EV = SlaEvent.Kind
DEFAULT_WARN_PERCENT = 75
_EPSILON = 1e-6  # business minutes: float sums must not turn "exactly on time" into missed
_UTC_ALWAYS = clock.Calendar.always("UTC")


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class Batch:
    """What one ticket change (or one sweep) will write: new clocks, changed clocks, timeline rows."""

    ticket: Ticket
    now: datetime
    new: list[Clock] = field(default_factory=list)
    dirty: dict[int, Clock] = field(default_factory=dict)
    events: list[SlaEvent] = field(default_factory=list)
    # shared by the batches of tickets opened together: clocks alike (same calendar, target and
    # instant) are scheduled once (see ``start``)
    memo: dict[tuple[Any, ...], tuple[Any, ...]] | None = None

    def event(self, clock_row: Clock | None, kind: str, **data: Any) -> None:
        self.events.append(
            SlaEvent(ticket_id=self.ticket.pk, clock=clock_row, kind=kind, data=data, created_at=self.now)
        )

    def touch(self, row: Clock) -> None:
        if row.pk is not None:
            self.dirty[row.pk] = row


def arithmetic(row: Calendar | None, *, batch: Batch | None = None, around: datetime | None = None) -> clock.Calendar:
    """The pure calendar of ``row``; a missing or broken one falls back to 24/7 UTC (logged, recorded)."""
    if row is not None:
        try:
            return calendars.build(row, around=around)
        except (clock.CalendarError, Calendar.DoesNotExist, NotImplementedError, ValueError) as exc:
            logger.warning("SLA calendar %s cannot be used: %s", row.pk, exc)
            problem = str(exc)
    else:
        problem = "no calendar"
    if batch is not None:
        batch.event(None, EV.PROBLEM, problem="calendar", detail=problem, fallback="24/7 UTC")
    return _UTC_ALWAYS


def pause_statuses(policy: SlaPolicy | None, kind: str) -> set[str]:
    statuses = set(policy.pause_statuses if policy is not None else DEFAULT_PAUSE_STATUSES)
    if kind in Clock.VENDOR_KINDS:  # waiting for the vendor is exactly what the vendor clock measures
        statuses.discard(Ticket.Status.PENDING_VENDOR)
    return statuses


def consumed_at(row: Clock, cal: clock.Calendar, now: datetime) -> float:
    """Business minutes the clock has used up to ``now``."""
    if row.stopped_at is not None or row.paused_at is not None:
        return row.consumed_minutes
    return row.consumed_minutes + clock.business_minutes_between(cal, row.resumed_at, now)


def next_event(row: Clock) -> datetime | None:
    if row.stopped_at is not None or row.paused_at is not None:
        return None
    pending = []
    if row.warned_at is None and row.warn_at is not None:
        pending.append(row.warn_at)
    if row.breached_at is None and row.due_at is not None:
        pending.append(row.due_at)
    return min(pending, default=None)


def schedule(row: Clock, cal: clock.Calendar) -> None:
    """Due, warning and next-event instants of a running clock, from its current run and what it used."""
    remaining = row.target_minutes - row.consumed_minutes
    if remaining > _EPSILON:
        row.due_at = clock.add_business_minutes(cal, row.resumed_at, remaining)
    elif row.due_at is None:
        row.due_at = row.resumed_at
    warn_left = row.target_minutes * row.warn_percent / 100 - row.consumed_minutes
    if warn_left > _EPSILON:
        row.warn_at = clock.add_business_minutes(cal, row.resumed_at, warn_left)
    elif row.warn_at is None:
        row.warn_at = row.resumed_at
    row.next_event_at = next_event(row)


def explain(row: Clock, cal_row: Calendar | None, start: datetime) -> dict[str, Any]:
    """Why the due time lies where it does: the calendar and the closed days in between."""
    data: dict[str, Any] = {"target": row.target_minutes, "due": iso(row.due_at), "warn": iso(row.warn_at)}
    if cal_row is not None:
        data["calendar"] = cal_row.name
        data["tz"] = cal_row.time_zone
        if row.due_at is not None and row.paused_at is None:
            try:
                closed = calendars.closed_days_between(cal_row, start, row.due_at)
            except (NotImplementedError, ValueError, KeyError):
                closed = []
            if closed:
                data["closed"] = closed
    return data


def start(
    batch: Batch,
    *,
    kind: str,
    target: int,
    cal_row: Calendar | None,
    policy: SlaPolicy | None = None,
    group: SupportGroup | None = None,
    warn_percent: int = DEFAULT_WARN_PERCENT,
    at: datetime | None = None,
) -> Clock:
    """A new clock measuring ``target`` business minutes from ``at`` (default: now); paused at once
    when the ticket sits in one of the pause statuses."""
    now = at or batch.now
    row = Clock(
        ticket_id=batch.ticket.pk,
        kind=kind,
        policy=policy,
        group=group,
        calendar=cal_row,
        target_minutes=target,
        warn_percent=warn_percent,
        started_at=now,
        resumed_at=now,
    )
    paused = batch.ticket.status in pause_statuses(policy, kind)
    key = (cal_row.pk if cal_row is not None else None, target, warn_percent, now, paused)
    known = batch.memo.get(key) if batch.memo is not None else None
    if known is None:
        mark = len(batch.events)
        cal = arithmetic(cal_row, batch=batch, around=now)
        schedule(row, cal)
        if paused:
            row.paused_at, row.paused_status, row.next_event_at = now, batch.ticket.status, None
        data = explain(row, cal_row, now)
        if batch.memo is not None:
            problems = [dict(e.data) for e in batch.events[mark:]]
            batch.memo[key] = (row.due_at, row.warn_at, row.next_event_at, dict(data), problems)
    else:
        row.due_at, row.warn_at, row.next_event_at, known_data, problems = known
        for problem in problems:
            batch.event(None, EV.PROBLEM, **problem)
        if paused:
            row.paused_at, row.paused_status = now, batch.ticket.status
        data = dict(known_data)
    batch.new.append(row)
    if group is not None:
        data["group"] = group.name
    if row.paused_at is not None:
        data["paused"] = row.paused_status
    batch.event(row, EV.STARTED, **data)
    return row


def pause(batch: Batch, row: Clock, cal: clock.Calendar, *, status: str) -> None:
    if row.paused_at is not None or row.stopped_at is not None:
        return
    row.consumed_minutes = consumed_at(row, cal, batch.now)
    row.paused_at, row.paused_status, row.next_event_at = batch.now, status, None
    batch.touch(row)
    left = max(0.0, row.target_minutes - row.consumed_minutes)
    batch.event(row, EV.PAUSED, status=status, consumed=round(row.consumed_minutes, 1), left=round(left, 1))


def resume(batch: Batch, row: Clock, cal: clock.Calendar, *, reason: str = "") -> None:
    if row.paused_at is None or row.stopped_at is not None:
        return
    waited = clock.business_minutes_between(cal, row.paused_at, batch.now)
    status = row.paused_status or "paused"
    row.paused_minutes = {**row.paused_minutes, status: round(row.paused_minutes.get(status, 0) + waited, 3)}
    old_due = row.due_at
    row.paused_at, row.paused_status, row.resumed_at = None, "", batch.now
    schedule(row, cal)
    batch.touch(row)
    batch.event(
        row,
        EV.RESUMED,
        status=status,
        waited=round(waited, 1),
        old_due=iso(old_due),
        new_due=iso(row.due_at),
        reason=reason,
    )


def stop(batch: Batch, row: Clock, cal: clock.Calendar, *, reason: str, judge: bool = True) -> None:
    """Stop a clock; ``judge`` records met or missed (a cancelled ticket is neither)."""
    if row.stopped_at is not None:
        return
    row.consumed_minutes = consumed_at(row, cal, batch.now)
    row.stopped_at, row.paused_at, row.next_event_at = batch.now, None, None
    batch.touch(row)
    data = {"reason": reason, "consumed": round(row.consumed_minutes, 1), "target": row.target_minutes}
    if not judge:
        batch.event(row, EV.STOPPED, **data)
        return
    met = row.consumed_minutes <= row.target_minutes + _EPSILON
    row.outcome = Clock.Outcome.MET if met else Clock.Outcome.MISSED
    batch.event(row, EV.MET if met else EV.MISSED, **data, due=iso(row.due_at))


def reopen(batch: Batch, row: Clock, cal: clock.Calendar) -> None:
    """Run a stopped clock again (a reopened ticket), keeping the business time it already used."""
    row.stopped_at, row.outcome, row.resumed_at = None, "", batch.now
    schedule(row, cal)
    batch.touch(row)
    batch.event(row, EV.RESUMED, reason="reopened", consumed=round(row.consumed_minutes, 1), new_due=iso(row.due_at))


def retarget(
    batch: Batch,
    row: Clock,
    *,
    old_cal: clock.Calendar,
    policy: SlaPolicy,
    target: int,
    new_cal: clock.Calendar,
) -> None:
    """Measure a clock against another policy or target, keeping the time used so far (with history)."""
    old = {"policy": row.policy.name if row.policy else None, "target": row.target_minutes, "due": iso(row.due_at)}
    if row.paused_at is None:
        row.consumed_minutes = consumed_at(row, old_cal, batch.now)
        row.resumed_at = batch.now
    kind = EV.POLICY_CHANGED if row.policy_id != policy.pk else EV.TARGET_CHANGED
    row.policy, row.calendar, row.target_minutes = policy, policy.calendar, target
    row.warn_percent = policy.warn_percent
    row.generation += 1  # a new target may warn and breach again, once
    if row.consumed_minutes < target * row.warn_percent / 100 - _EPSILON:
        row.warned_at, row.warn_at = None, None
    if row.consumed_minutes < target - _EPSILON:
        row.breached_at, row.due_at = None, None
    elif row.breached_at is None:  # the new target is already used up: due now, the sweep fires it
        row.due_at = batch.now
    if row.warned_at is None and row.consumed_minutes >= target * row.warn_percent / 100 - _EPSILON:
        row.warn_at = batch.now
    if row.paused_at is None:
        schedule(row, new_cal)
    batch.touch(row)
    data = explain(row, policy.calendar, batch.now)
    batch.event(
        row,
        kind,
        old_policy=old["policy"],
        new_policy=policy.name,
        old_target=old["target"],
        new_target=target,
        old_due=old["due"],
        new_due=iso(row.due_at) if row.paused_at is None else None,
        consumed=round(row.consumed_minutes, 1),
        **{k: v for k, v in data.items() if k not in ("target", "due")},
    )
