"""Reads of the SLA engine for the pages: a ticket's clocks, its SLA timeline in sentences, what a
requester may expect, and the admin lists. Callers check that the user may see the ticket."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palier.lib import businesstime as clock
from palier.sla.models import Calendar, Clock, SlaEvent, SlaPolicy
from palier.sla.services import calendars
from palier.sla.services.clocks import arithmetic, consumed_at
from palier.tickets.models import Ticket

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


def short(minutes: float) -> str:
    """Compact business time for the countdown and timeline: "45 min", "4 h 30"."""
    total = round(abs(minutes))
    if total < 60:
        return _("%(m)d min") % {"m": total}
    if total % 60 == 0:
        return _("%(h)d h") % {"h": total // 60}
    return _("%(h)d h %(m)02d") % {"h": total // 60, "m": total % 60}


def when(value: datetime | str | None, zone: str | None, *, now: datetime | None = None) -> str:
    """An instant in the calendar's zone, with Django's localized formats ("Tuesday 12:30")."""
    if value is None:
        return "—"
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    tz = ZoneInfo(zone) if zone else timezone.get_current_timezone()
    local = instant.astimezone(tz)
    reference = (now or timezone.now()).astimezone(tz)
    clock_time = formats.time_format(local.time(), "TIME_FORMAT")
    if 0 <= (local.date() - reference.date()).days < 6:
        return f"{formats.date_format(local, 'l')} {clock_time}"
    return f"{formats.date_format(local, 'l')} {formats.date_format(local, 'DATE_FORMAT')} {clock_time}"


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


def _status_label(value: str) -> str:
    try:
        return str(Ticket.Status(value).label)
    except ValueError:
        return value


def _closed_days(data: dict[str, Any]) -> str:
    parts = []
    for day in data.get("closed", []):
        label = formats.date_format(date.fromisoformat(day["date"]), "D j M")
        parts.append(f"{label} ({day['name']})" if day.get("why") == "holiday" else label)
    return ", ".join(parts)


def _text(event: SlaEvent, zone: str | None) -> str:  # noqa: C901  (one sentence per event kind)
    d, kind = event.data, event.kind
    if kind == EV.STARTED:
        text = _("Started: %(target)s, due %(due)s (calendar %(calendar)s).") % {
            "target": short(d.get("target", 0)),
            "due": when(d.get("due"), zone, now=event.created_at),
            "calendar": d.get("calendar", "—"),
        }
        if d.get("paused"):
            text += " " + _("Paused at once: the ticket is %(status)s.") % {"status": _status_label(d["paused"])}
        if closed := _closed_days(d):
            text += " " + _("Closed days not counted: %(days)s.") % {"days": closed}
        return text
    if kind == EV.PAUSED:
        return _("Paused while %(status)s; %(left)s left.") % {
            "status": _status_label(d.get("status", "")),
            "left": short(d.get("left", 0)),
        }
    if kind == EV.RESUMED:
        if d.get("reason") == "reopened":
            return _("Resumed: the ticket was reopened; %(used)s already used, due %(due)s.") % {
                "used": short(d.get("consumed", 0)),
                "due": when(d.get("new_due"), zone, now=event.created_at),
            }
        return _("Resumed after %(waited)s %(status)s (not counted); due moved from %(old)s to %(new)s.") % {
            "waited": short(d.get("waited", 0)),
            "status": _status_label(d.get("status", "")),
            "old": when(d.get("old_due"), zone, now=event.created_at),
            "new": when(d.get("new_due"), zone, now=event.created_at),
        }
    if kind in (EV.TARGET_CHANGED, EV.POLICY_CHANGED):
        return _(
            "Policy %(old_policy)s → %(new_policy)s, target %(old_target)s → %(new_target)s; due %(old_due)s → %(new_due)s (%(used)s already used)."
        ) % {
            "old_policy": d.get("old_policy") or "—",
            "new_policy": d.get("new_policy") or "—",
            "old_target": short(d.get("old_target", 0)),
            "new_target": short(d.get("new_target", 0)),
            "old_due": when(d.get("old_due"), zone, now=event.created_at),
            "new_due": when(d.get("new_due"), zone, now=event.created_at) if d.get("new_due") else _("paused"),
            "used": short(d.get("consumed", 0)),
        }
    if kind == EV.WARNING:
        return _("Warning: %(percent)s%% of the %(target)s target used; %(left)s left before %(due)s.") % {
            "percent": d.get("percent", 75),
            "target": short(d.get("target", 0)),
            "left": short(d.get("left", 0)),
            "due": when(d.get("due"), zone, now=event.created_at),
        }
    if kind == EV.BREACH:
        excluded = ", ".join(
            _("%(time)s in %(status)s") % {"time": short(m), "status": _status_label(s)}
            for s, m in (d.get("excluded") or {}).items()
        )
        text = _("Breached: target %(target)s of business time; 0 min left at %(due)s.") % {
            "target": short(d.get("target", 0)),
            "due": when(d.get("due"), zone, now=event.created_at),
        }
        if excluded:
            text += " " + _("Excluded because the clock was paused: %(excluded)s.") % {"excluded": excluded}
        return text
    if kind in (EV.MET, EV.MISSED):
        text = _("Met: %(used)s used of %(target)s.") if kind == EV.MET else _("Missed: %(used)s used of %(target)s.")
        return text % {"used": short(d.get("consumed", 0)), "target": short(d.get("target", 0))}
    if kind == EV.STOPPED:
        return _("Stopped (%(reason)s); no outcome is recorded.") % {"reason": d.get("reason", "")}
    return _("Problem: %(detail)s. The engine carried on.") % {"detail": d.get("detail") or d.get("problem", "")}


def timeline(ticket: Ticket) -> list[TimelineEntry]:
    """The ticket's SLA timeline in sentences, oldest first, in the calendar's zone."""
    events = SlaEvent.objects.filter(ticket_id=ticket.pk).select_related("clock__calendar").order_by("created_at", "id")
    entries = []
    for event in events:
        row = event.clock
        zone = row.calendar.time_zone if row is not None and row.calendar is not None else None
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind=event.kind,
                kind_label=str(EV(event.kind).label),
                clock=str(K(row.kind).label) if row is not None else _("SLA"),
                text=_text(event, zone),
                is_alert=event.kind in (EV.WARNING, EV.BREACH, EV.MISSED, EV.PROBLEM),
            )
        )
    return entries


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
                    "status": _status_label(row.paused_status).lower(),
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
