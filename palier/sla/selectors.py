"""Reads of the SLA engine for the pages: a ticket's clocks, its SLA timeline in sentences, what a
requester may expect, and the admin lists. Callers check that the user may see the ticket.

The sentences themselves are written in ``palier.tickets.display``, with the ticket history's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import BigIntegerField, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palier.lib import businesstime as clock
from palier.sla.models import Calendar, CalendarHoliday, Clock, SlaEvent, SlaPolicy
from palier.sla.services import calendars
from palier.sla.services.clocks import arithmetic, consumed_at
from palier.tickets import display
from palier.tickets.display import short, when
from palier.tickets.models import Ticket, TicketEvent

K = Clock.Kind
EV = SlaEvent.Kind


# --- formatting -------------------------------------------------------------------------------------


def duration(minutes: float, *, business: bool = True, day_minutes: float = 0) -> str:
    """Plain words: "45 minutes", "4 business hours", "3 business days"."""
    total = round(abs(minutes))
    if day_minutes and business and total >= day_minutes and total % round(day_minutes) == 0:
        days = total // round(day_minutes)
        return ngettext("%(n)d business day", "%(n)d business days", days) % {"n": days}
    if total >= 60 and total % 60 == 0:
        hours = total // 60
        if business:
            return ngettext("%(n)d business hour", "%(n)d business hours", hours) % {"n": hours}
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    if total >= 60:
        return _("%(h)d h %(m)02d min") % {"h": total // 60, "m": total % 60}
    return ngettext("%(n)d minute", "%(n)d minutes", total) % {"n": total}


def _day_minutes(cal: clock.Calendar) -> float:
    """The longest business day of a calendar (0 for 24/7, counted in hours)."""
    if cal.always_open:
        return 0
    return max(cal._day_us) / 60_000_000


# --- the ticket panel --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    kind: str
    label: str
    target_minutes: int
    target: str
    due_at: datetime | None
    due: str
    remaining_minutes: float
    remaining: str
    overdue: bool
    paused: bool
    paused_status: str
    warned: bool
    breached: bool
    outcome: str
    outcome_label: str
    running: bool
    group: str
    calendar: str
    is_customer: bool


@dataclass(frozen=True)
class TicketSla:
    ticket_id: int
    clocks: list[ClockView] = field(default_factory=list)

    @property
    def running(self) -> list[ClockView]:
        return [c for c in self.clocks if c.running]

    @property
    def any_breached(self) -> bool:
        return any(c.breached for c in self.clocks if c.running)


def _view(row: Clock, now: datetime) -> ClockView:
    cal = arithmetic(row.calendar, around=now)
    used = consumed_at(row, cal, now)
    remaining = row.target_minutes - used
    running = row.stopped_at is None
    zone = row.calendar.time_zone if row.calendar else "UTC"
    return ClockView(
        kind=row.kind,
        label=str(K(row.kind).label),
        target_minutes=row.target_minutes,
        target=duration(row.target_minutes, business=not cal.always_open, day_minutes=_day_minutes(cal)),
        due_at=row.due_at if running and row.paused_at is None else None,
        due=when(row.due_at, zone, now=now) if running and row.paused_at is None else "",
        remaining_minutes=round(remaining, 1),
        remaining=short(remaining),
        overdue=remaining < 0,
        paused=row.paused_at is not None,
        paused_status=str(Ticket.Status(row.paused_status).label) if row.paused_status else "",
        warned=row.warned_at is not None,
        breached=row.breached_at is not None or row.outcome == Clock.Outcome.MISSED,
        outcome=row.outcome,
        outcome_label=str(Clock.Outcome(row.outcome).label) if row.outcome else "",
        running=running,
        group=row.group.name if row.group else "",
        calendar=row.calendar.name if row.calendar else "",
        is_customer=row.kind in Clock.CUSTOMER_KINDS,
    )


def ticket_sla(ticket: Ticket, *, now: datetime | None = None) -> TicketSla:
    """The latest clock of each kind of a ticket (running ones first), for the agent's ticket page."""
    now = now or timezone.now()
    rows = Clock.objects.filter(ticket_id=ticket.pk).select_related("calendar", "group").order_by("-started_at", "-pk")
    latest: dict[str, Clock] = {}
    for row in rows:
        latest.setdefault(row.kind, row)
    order = list(K.values)
    chosen = sorted(latest.values(), key=lambda r: (r.stopped_at is not None, order.index(r.kind)))
    return TicketSla(ticket_id=ticket.pk, clocks=[_view(row, now) for row in chosen])


# --- the SLA timeline ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    kind_label: str
    clock: str
    text: str
    is_alert: bool


def _timeline_rows(ticket: Ticket) -> QuerySet[Any]:
    """One query: the clocks' ``SlaEvent`` rows and the warnings and breaches (ticket events, whose
    data names their clock), each with its clock's kind and time zone, oldest first."""
    clock = Clock.objects.filter(pk=OuterRef("clock_ref"))
    fired = (
        TicketEvent.objects.filter(ticket_id=ticket.pk, kind__in=TicketEvent.SLA_KINDS)
        .alias(clock_ref=Cast(KeyTextTransform("clock", "data"), BigIntegerField()))
        .annotate(
            clock_kind=Subquery(clock.values("kind")[:1]),
            zone=Subquery(clock.values("calendar__time_zone")[:1]),
            source=Value(1),
            row_id=F("id"),
        )
        .values_list("created_at", "kind", "data", "clock_kind", "zone", "source", "row_id")
        .order_by()
    )
    kept = (
        SlaEvent.objects.filter(ticket_id=ticket.pk)
        .annotate(clock_kind=F("clock__kind"), zone=F("clock__calendar__time_zone"), source=Value(0), row_id=F("id"))
        .values_list("created_at", "kind", "data", "clock_kind", "zone", "source", "row_id")
        .order_by()
    )
    # at the same instant, the clock's own changes come before its alerts, as they were written first
    return kept.union(fired, all=True).order_by("created_at", "source", "row_id")


def timeline(ticket: Ticket) -> list[TimelineEntry]:
    """The ticket's SLA timeline in sentences, oldest first, in the calendar's zone."""
    entries = []
    for at, kind, data, clock_kind, zone, source, _id in _timeline_rows(ticket):
        kind = display.SLA_EVENT_KINDS[kind][0] if source else kind
        entries.append(
            TimelineEntry(
                at=at,
                kind=kind,
                kind_label=_kind_label(kind),
                clock=str(K(clock_kind).label) if clock_kind else _("SLA"),
                text=display.sla_sentence(kind, data, zone=zone, at=at),
                is_alert=kind in display.SLA_ALERTS,
            )
        )
    return entries


def _kind_label(kind: str) -> str:
    fired = {timeline_kind: label for timeline_kind, label in display.SLA_EVENT_KINDS.values()}
    return str(fired[kind]) if kind in fired else str(EV(kind).label)


# --- the requester's expectation ---------------------------------------------------------------------------


def requester_expectation(ticket: Ticket, *, now: datetime | None = None) -> list[str]:
    """What the requester may expect, in plain words in the active language (empty if no SLA)."""
    now = now or timezone.now()
    if not ticket.is_open:
        return []
    rows = Clock.objects.filter(
        ticket_id=ticket.pk, kind__in=Clock.CUSTOMER_KINDS, stopped_at__isnull=True
    ).select_related("calendar")
    sentences = []
    for row in sorted(rows, key=lambda r: list(K.values).index(r.kind)):
        cal = arithmetic(row.calendar, around=now)
        within = duration(row.target_minutes, business=not cal.always_open, day_minutes=_day_minutes(cal))
        zone = row.calendar.time_zone if row.calendar else None
        if row.paused_at is not None:
            sentences.append(
                _("We usually answer within %(within)s; the clock is paused while your request is %(status)s.")
                % {
                    "within": within,
                    "status": display.status_label(row.paused_status).lower(),
                }
            )
            continue
        due = row.due_at if row.due_at and row.due_at > now else None
        if row.kind == K.RESOLUTION:
            text = (
                _("We usually resolve such requests within %(within)s; you can expect a solution by %(due)s.")
                if due
                else _("We usually resolve such requests within %(within)s; we are working on it.")
            )
        else:
            text = (
                _("We usually answer within %(within)s; you can expect a first answer by %(due)s.")
                if row.kind == K.RESPONSE
                else _("We usually answer within %(within)s; you can expect our next answer by %(due)s.")
            )
            if not due:
                text = _("We usually answer within %(within)s; we will answer as soon as possible.")
        sentences.append(text % {"within": within, "due": when(due, zone, now=now)})
    return sentences


# --- admin lists ---------------------------------------------------------------------------------------


def calendars_by_name() -> QuerySet[Calendar]:
    return Calendar.objects.order_by("name")


def calendars_for_admin() -> QuerySet[Calendar]:
    return Calendar.objects.prefetch_related("custom_holidays").order_by("name")


def get_calendar_for_admin(calendar_id: int) -> Calendar:
    return get_object_or_404(Calendar.objects.prefetch_related("custom_holidays"), pk=calendar_id)


def policies_for_admin() -> QuerySet[SlaPolicy]:
    return (
        SlaPolicy.objects.select_related("calendar")
        .prefetch_related("categories", "organisations")
        .order_by("position", "id")
    )


def get_policy_for_admin(policy_id: int) -> SlaPolicy:
    return get_object_or_404(SlaPolicy.objects.prefetch_related("categories", "organisations"), pk=policy_id)


def upcoming_holidays(calendar: Calendar) -> list[tuple[date, str]]:
    """The next public and custom holidays of a calendar (its admin page's preview)."""
    return calendars.upcoming_holidays(calendar)


# --- the administration API -------------------------------------------------------------------------


def calendars_for_api(filters: dict[str, Any]) -> QuerySet[Calendar]:
    """Business calendars, optionally only the default one; unordered."""
    qs = Calendar.objects.all()
    if filters.get("is_default") is not None:
        qs = qs.filter(is_default=filters["is_default"])
    return qs


def holidays_for_api(filters: dict[str, Any]) -> QuerySet[CalendarHoliday]:
    """Custom closed days, optionally of one ``calendar`` and from a day ``since``; unordered."""
    qs = CalendarHoliday.objects.all()
    if filters.get("calendar") is not None:
        qs = qs.filter(calendar_id=filters["calendar"])
    if filters.get("since") is not None:
        qs = qs.filter(date__gte=filters["since"])
    return qs


def get_holiday(holiday_id: int) -> CalendarHoliday:
    return get_object_or_404(CalendarHoliday.objects.select_related("calendar"), pk=holiday_id)


def find_calendar(calendar_id: int) -> Calendar | None:
    return Calendar.objects.filter(pk=calendar_id).first()


def policies_for_api(filters: dict[str, Any]) -> QuerySet[SlaPolicy]:
    """SLA policies with their categories and organisations, optionally only active ones or of one
    ``calendar``; unordered."""
    qs = SlaPolicy.objects.prefetch_related("categories", "organisations")
    if filters.get("is_active") is not None:
        qs = qs.filter(is_active=filters["is_active"])
    if filters.get("calendar") is not None:
        qs = qs.filter(calendar_id=filters["calendar"])
    return qs


def group_usage(group_id: int) -> str:
    """Why the support group ``group_id`` cannot be deleted: SLA policies escalate to it
    (``GROUP_IN_USE`` of ``palier/events.py``), or ""."""
    names = [
        policy.name
        for policy in SlaPolicy.objects.only("name", "warning_actions", "breach_actions").order_by("position", "id")
        if any(action.get("group") == group_id for action in [*policy.warning_actions, *policy.breach_actions])
    ]
    if not names:
        return ""
    return _("SLA policies escalate to this group (%(names)s): change those policies first.") % {
        "names": ", ".join(names[:5])
    }
