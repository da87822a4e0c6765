"""The SLA engine's reactions to ticket changes (registered as ticket hooks in ``SlaConfig.ready``).

Each reaction is idempotent and runs inside the ticket service's transaction. It never lets a
ticket change fail: a broken calendar falls back to 24/7 UTC and a problem is recorded; any other
error is logged, recorded on the SLA timeline, and the ticket change goes on.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from palier.lib import copyinsert
from palier.people.models import SupportGroup, User
from palier.sla.models import Calendar, Clock, SlaEvent, SlaPolicy
from palier.sla.services import clocks as c
from palier.sla.services.policies import active_policies, policy_for
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

logger = logging.getLogger("palier.sla")

S = Ticket.Status
K = Clock.Kind
EV = SlaEvent.Kind
# "_assets": a link between the ticket and an asset was added or removed (business service criticality)
POLICY_FIELDS = {"priority", "kind", "category", "organisation", "_assets"}


def default_calendar() -> Calendar | None:
    return Calendar.objects.filter(is_default=True).first() or Calendar.objects.order_by("pk").first()


def _target(policy: SlaPolicy | None, kind: str) -> int | None:
    if policy is None:
        return None
    if kind == K.RESPONSE:
        return policy.first_response_minutes
    if kind == K.NEXT_RESPONSE:
        return policy.next_response_minutes
    return policy.resolution_minutes if kind == K.RESOLUTION else None


class State:
    """The open clocks of one ticket and what they need, loaded in one query."""

    def __init__(self, batch: c.Batch, *, load: bool = True, fallback: Calendar | bool | None = False) -> None:
        """``load=False``: a ticket known to have no clocks; ``fallback``: the default calendar if known."""
        self.batch = batch
        rows = (
            Clock.objects.filter(ticket_id=batch.ticket.pk, stopped_at__isnull=True).select_related(
                "calendar", "policy", "policy__calendar", "group"
            )
            if load
            else []
        )
        self.clocks: dict[str, Clock] = {row.kind: row for row in rows}
        self.policy = next(
            (r.policy for r in self.clocks.values() if r.kind in Clock.CUSTOMER_KINDS and r.policy), None
        )
        self._fallback = fallback

    def cal_row(self) -> Calendar | None:
        if self.policy is not None:
            return self.policy.calendar
        if self._fallback is False:
            self._fallback = default_calendar()
        return self._fallback  # type: ignore[return-value]

    def cal(self, row: Clock) -> Any:
        return c.arithmetic(row.calendar, batch=self.batch, around=self.batch.now)

    def running(self, *kinds: str) -> list[Clock]:
        return [row for kind, row in self.clocks.items() if kind in kinds and row.stopped_at is None]

    def start(
        self, kind: str, target: int, *, policy: SlaPolicy | None = None, group: SupportGroup | None = None
    ) -> None:
        if kind in self.clocks and self.clocks[kind].stopped_at is None:
            return
        owner = policy or self.policy
        warn = owner.warn_percent if owner is not None else c.DEFAULT_WARN_PERCENT
        cal_row = policy.calendar if policy is not None else self.cal_row()
        self.clocks[kind] = c.start(
            self.batch, kind=kind, target=target, cal_row=cal_row, policy=policy, group=group, warn_percent=warn
        )

    def stop(self, *kinds: str, reason: str, judge: bool = True) -> None:
        for row in self.running(*kinds):
            c.stop(self.batch, row, self.cal(row), reason=reason, judge=judge)


# --- hooks ------------------------------------------------------------------------------------------


# ``open_tickets`` calls the two hooks below: the clocks of its tickets are worked out before the
# rows are inserted, so each row is inserted with its ``sla_due_at``, then written after.
_PLANNED = "_sla_planned"


def tickets_placed(pairs: list[tuple[Ticket, Any]]) -> None:
    """``before_open`` hook: work out the clocks of tickets about to be inserted (reads only).
    A failure leaves them unplanned; ``tickets_opened`` then starts their clocks one by one."""
    try:
        policies = active_policies()
        fallback: Calendar | bool | None = False  # the default calendar, read once if a ticket needs it
        memo: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for ticket, _draft in pairs:
            batch = c.Batch(ticket=ticket, now=ticket.created_at, memo=memo)
            state = State(batch, load=False, fallback=fallback)
            _open(state, policies)
            fallback = state._fallback
            ticket.sla_due_at = sla_due(batch.new)
            setattr(ticket, _PLANNED, batch)
    except Exception:
        logger.exception("SLA engine could not plan the clocks of new tickets")
        for ticket, _draft in pairs:
            ticket.sla_due_at = None
            setattr(ticket, _PLANNED, None)


def tickets_opened(tickets: list[Ticket]) -> None:
    """``after_open`` hook: write the clocks planned by ``tickets_placed``, one statement per table
    for the whole batch. No savepoint: a database error here would leave the transaction unusable
    anyway, and the clocks are computed already (a computing error was caught before)."""
    planned: list[c.Batch] = []
    for ticket in tickets:
        batch = getattr(ticket, _PLANNED, None)
        if batch is None:
            _guarded(ticket, {}, ticket.created_at, new=True)
        else:
            planned.append(batch)
        setattr(ticket, _PLANNED, None)
    new = [row for batch in planned for row in batch.new]
    for batch in planned:
        for row in batch.new:
            row.ticket_id = batch.ticket.pk
    if new:
        copyinsert.insert_new(new)
    events = [event for batch in planned for event in batch.events]
    for batch in planned:
        for event in batch.events:
            event.ticket_id = batch.ticket.pk
            if event.clock is not None:
                event.clock_id = event.clock.pk
    if events:
        copyinsert.insert_new(events)


def ticket_changed(ticket: Ticket, old: dict[str, Any]) -> None:
    _guarded(ticket, old, timezone.now())


def _guarded(ticket: Ticket, old: dict[str, Any], now: datetime, *, new: bool = False) -> None:
    try:
        with transaction.atomic():
            react(ticket, old, now=now, new=new)
    except Exception as exc:  # a ticket change must never fail because of the SLA engine
        logger.exception("SLA engine failed on ticket %s", ticket.pk)
        _record_problem(ticket, str(exc))


def _record_problem(ticket: Ticket, detail: str) -> None:
    try:
        with transaction.atomic():
            SlaEvent.objects.create(
                ticket_id=ticket.pk, kind=EV.PROBLEM, data={"problem": "engine", "detail": detail[:500]}
            )
    except Exception:  # pragma: no cover - the database itself is failing
        logger.exception("could not record the SLA problem of ticket %s", ticket.pk)


def react(ticket: Ticket, old: dict[str, Any], *, now: datetime, new: bool = False) -> None:
    """Bring the ticket's clocks in line with the ticket after a change (``old``: see tickets.hooks).
    An empty ``old`` means the ticket was just opened; ``new``: it was inserted in this transaction,
    so it has no clocks to read yet."""
    batch = c.Batch(ticket=ticket, now=now)
    state = State(batch, load=not new)
    if not old:
        _open(state)
    else:
        if "status" in old:
            _status(state, old["status"])
        if "first_response_at" in old and ticket.first_response_at is not None:
            state.stop(K.RESPONSE, reason="first-response")
        if "_reply_by" in old:
            _reply(state, old["_reply_by"])
        if "vendor_reference" in old and ticket.vendor_reference:
            state.stop(K.VENDOR_RESPONSE, reason="vendor-acknowledged")
        if POLICY_FIELDS & set(old) and ticket.is_open:
            _repick(state)
        if "group" in old and ticket.is_open:
            _group(state, old["group"])
    save(batch, state.clocks.values())


def _open(state: State, policies: list[SlaPolicy] | None = None) -> None:
    ticket = state.batch.ticket
    if state.clocks or not ticket.is_open:
        return
    policy = policy_for(ticket, policies)
    state.policy = policy
    if policy is not None:
        if ticket.first_response_at is None:
            state.start(K.RESPONSE, policy.first_response_minutes, policy=policy)
        state.start(K.RESOLUTION, policy.resolution_minutes, policy=policy)
    # the group was loaded by this same request (form, API or routing): no need to read it again
    _enter_group(state, ticket.group, fresh=False)


def _status(state: State, previous: str) -> None:
    status = state.batch.ticket.status
    if status in (S.CLOSED, S.CANCELLED):
        state.stop(*K.values, reason=status, judge=status == S.CLOSED)
    elif status == S.RESOLVED:
        state.stop(*K.values, reason="resolved")
    elif previous == S.RESOLVED:
        _reopen(state)
    for row in state.running(*K.values):
        policy = state.policy if row.kind in Clock.CUSTOMER_KINDS or row.policy is None else row.policy
        if status in c.pause_statuses(policy, row.kind):
            c.pause(state.batch, row, state.cal(row), status=status)
        elif row.paused_at is not None:
            c.resume(state.batch, row, state.cal(row), reason=f"status:{status}")


def _reopen(state: State) -> None:
    ticket = state.batch.ticket
    last = (
        Clock.objects.filter(ticket_id=ticket.pk, kind=K.RESOLUTION, stopped_at__isnull=False)
        .select_related("calendar", "policy", "policy__calendar")
        .order_by("-stopped_at", "-pk")
        .first()
    )
    if last is not None and K.RESOLUTION not in state.clocks:
        c.reopen(state.batch, last, state.cal(last))
        state.clocks[K.RESOLUTION] = last
        state.policy = state.policy or last.policy
    _enter_group(state, ticket.group)


def _reply(state: State, author: User | None) -> None:
    ticket = state.batch.ticket
    if author is None or not ticket.is_open:
        return
    if author.pk == ticket.requester_id:
        target = _target(state.policy, K.NEXT_RESPONSE)
        if target and ticket.first_response_at is not None:
            state.start(K.NEXT_RESPONSE, target, policy=state.policy)
    elif author.is_agent:
        state.stop(K.NEXT_RESPONSE, reason="agent-replied")
        vendor = state.clocks.get(K.VENDOR_RESPONSE)
        if (
            vendor is not None
            and vendor.group_id
            and vendor.group
            and vendor.group.members.filter(pk=author.pk).exists()
        ):
            state.stop(K.VENDOR_RESPONSE, reason="vendor-replied")


def _repick(state: State) -> None:
    ticket = state.batch.ticket
    if ticket.status == S.RESOLVED:
        return
    policy = policy_for(ticket)
    for kind in Clock.CUSTOMER_KINDS:
        row = state.clocks.get(kind)
        target = _target(policy, kind)
        if row is None or row.stopped_at is not None:
            fresh = kind == K.RESOLUTION or (kind == K.RESPONSE and ticket.first_response_at is None)
            if target and policy is not None and fresh:
                state.start(kind, target, policy=policy)
        elif target is None or policy is None:
            c.stop(state.batch, row, state.cal(row), reason="no-policy", judge=False)
        elif row.policy_id != policy.pk or row.target_minutes != target or row.calendar_id != policy.calendar_id:
            old_cal = state.cal(row)
            new_cal = c.arithmetic(policy.calendar, batch=state.batch, around=state.batch.now)
            c.retarget(state.batch, row, old_cal=old_cal, policy=policy, target=target, new_cal=new_cal)
    state.policy = policy


def _group(state: State, previous: SupportGroup | None) -> None:
    ticket = state.batch.ticket
    state.stop(K.GROUP, reason="group-changed")
    state.stop(*Clock.VENDOR_KINDS, reason="left-vendor")
    # a re-run with the same group must not restart its clocks
    for kind in (K.GROUP, *Clock.VENDOR_KINDS):
        if kind in state.clocks and state.clocks[kind].stopped_at is not None:
            del state.clocks[kind]
    _enter_group(state, ticket.group)


def _enter_group(state: State, group: SupportGroup | None, *, fresh: bool = True) -> None:
    """Start the group's internal clock and, for a vendor, its contract clocks. ``fresh`` re-reads the
    group: the caller's instance may predate an admin's change of its targets."""
    if group is not None and fresh:
        group = SupportGroup.objects.filter(pk=group.pk).first()
    if group is None:
        return
    if group.internal_target_minutes:
        state.start(K.GROUP, group.internal_target_minutes, group=group)
    if group.is_vendor:
        if group.contract_response_minutes:
            state.start(K.VENDOR_RESPONSE, group.contract_response_minutes, group=group)
        if group.contract_resolution_minutes:
            state.start(K.VENDOR_RESOLUTION, group.contract_resolution_minutes, group=group)


# --- writing --------------------------------------------------------------------------------------

_CLOCK_FIELDS = [
    "policy",
    "calendar",
    "target_minutes",
    "warn_percent",
    "resumed_at",
    "consumed_minutes",
    "paused_at",
    "paused_status",
    "paused_minutes",
    "due_at",
    "warn_at",
    "next_event_at",
    "generation",
    "warned_at",
    "breached_at",
    "stopped_at",
    "outcome",
]


def save(batch: c.Batch, current: Any) -> None:
    """Write a batch: new clocks, changed clocks, timeline rows, then the ticket's ``sla_due_at``."""
    for row in batch.dirty.values():  # stopped rows first: a new clock of the same kind may replace one
        row.save(update_fields=_CLOCK_FIELDS)
    if batch.new:
        Clock.objects.bulk_create(batch.new)
    if batch.events:
        for event in batch.events:
            if event.clock is not None:
                event.clock_id = event.clock.pk
        SlaEvent.objects.bulk_create(batch.events)
    due = sla_due(list(current))
    if due != batch.ticket.sla_due_at:
        ticket_services.set_sla_due(batch.ticket, due=due)


def sla_due(rows: list[Clock]) -> datetime | None:
    """The earliest due time among the running (not paused) customer clocks."""
    dues = [r.due_at for r in rows if r.kind in Clock.CUSTOMER_KINDS and r.is_running and r.due_at is not None]
    return min(dues, default=None)
