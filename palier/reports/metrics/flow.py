"""Ticket flow: the backlog, created against resolved, first-contact resolution, reopenings,
escalations, resolution by level ("shift-left"), channels, categories and workload.

Every definition is written out in docs/reports.md (ticket flow). In short: a ticket enters a
period by its ``created_at`` ("created") or its ``resolved_at`` ("resolved", the last resolution:
reopening clears it), both in the period's time zone; figures follow the ticket's current group,
which for a resolved ticket is the group that resolved it (a resolved ticket cannot be moved).
Each function runs a fixed number of aggregate queries, whatever the number of tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from palier.kb import selectors as kb_selectors
from palier.people.models import User
from palier.reports import facts
from palier.reports.filters import Scope
from palier.reports.models import Resolution
from palier.reports.periods import Period
from palier.reports.types import Kpi, Point, Row, Series, Table
from palier.tickets.models import Ticket, TicketEvent
from palier.timelog import selectors as timelog_selectors

# A category is "rising" (a candidate for problem management) when the period counts at least
# RISING_MIN_COUNT tickets in it and at least RISING_FACTOR times the average of the
# RISING_HISTORY periods of the same length just before.
RISING_MIN_COUNT = 5
RISING_FACTOR = 1.5
RISING_HISTORY = 4
TOP_CATEGORIES = 50  # rows of the categories table, most tickets first

# First contact: resolved with no reopening, no escalation and at most this many public replies
# from agents (the history flags: reports/facts.py).
FCR_MAX_REPLIES = 1

# Age of an open ticket (now - created_at), in days: [low, high); None: no upper bound.
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("lt1d", 0, 1),
    ("1_3d", 1, 3),
    ("3_7d", 3, 7),
    ("7_30d", 7, 30),
    ("gt30d", 30, None),
)

S = Ticket.Status
E = TicketEvent.Kind
OPEN: list[str] = [status.value for status in Ticket.OPEN_STATUSES]
RESOLVED: str = S.RESOLVED.value
ENDED_RESOLVED = [S.RESOLVED.value, S.CLOSED.value]  # the statuses that may carry a resolved_at
ENDED_OTHERWISE = [S.CLOSED.value, S.CANCELLED.value]  # ended without resolution: closed_at only
AGENT_ROLES = (User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN)
LEVEL_KEYS = ("self", "L1", "L2", "L3", "vendor")


# --- shared pieces ---------------------------------------------------------------------------------


def _between(field: str, start: datetime, end: datetime) -> Q:
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _within(field: str, period: Period) -> Q:
    return _between(field, period.start, period.end)


def _tickets(scope: Scope) -> QuerySet[Ticket]:
    return scope.tickets.order_by()


def _open_at(moment: datetime) -> Q:
    """Open at ``moment``: created before it and not ended by then. A ticket ends at its
    ``resolved_at`` (resolved, or closed after resolution) or else at its ``closed_at`` (closed
    without resolution, cancelled); a ticket open now has neither."""
    not_ended = (
        Q(status__in=OPEN)
        | Q(status__in=ENDED_RESOLVED, resolved_at__gte=moment)
        | Q(status__in=ENDED_OTHERWISE, resolved_at__isnull=True, closed_at__gte=moment)
    )
    return Q(created_at__lt=moment) & not_ended


def _maybe_open_since(moment: datetime) -> Q:
    """A superset of the tickets open at any time since ``moment`` that the indexes can find:
    open now, (status, resolved_at), and (status, updated_at) as a ticket's ``updated_at`` is
    never before its ``closed_at`` (closing touches it), so no index on ``closed_at`` is needed."""
    return (
        Q(status__in=OPEN)
        | Q(status__in=ENDED_RESOLVED, resolved_at__gte=moment)
        | Q(status__in=ENDED_OTHERWISE, updated_at__gte=moment)
    )


def _resolved_in(period: Period) -> Q:
    """Resolved (last resolution) in the period. Only resolved and closed tickets have a
    ``resolved_at`` (reopening clears it); saying so lets the (status, resolved_at) index serve."""
    return Q(status__in=ENDED_RESOLVED) & _within("resolved_at", period)


def round1(value: float) -> float:
    """Rounded to one decimal, halves up (16.65 -> 16.7), as people round."""
    return float(Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _percent(part: int | None, whole: int | None) -> float | None:
    if not whole:
        return None
    return round1(100 * (part or 0) / whole)


def _bucket(period: Period, day: date) -> date:
    return day - timedelta(days=day.weekday()) if period.bucket == "week" else day


def _points(period: Period, per_day: Mapping[date, float]) -> list[Point]:
    """One point per bucket of the period (zeros included), days folded into weeks if needed."""
    totals: dict[date, float] = dict.fromkeys(period.buckets(), 0)
    for day, value in per_day.items():
        bucket = _bucket(period, day)
        if bucket in totals:
            totals[bucket] += value
    return [Point(day=day, value=value) for day, value in totals.items()]


def _local_day(field: str, period: Period) -> TruncDate:
    return TruncDate(field, tzinfo=period.zone)


def _per_day(rows: Iterable[Mapping[str, Any]], *, split: str | None = None) -> dict[Any, dict[date, float]]:
    """{split value (or None): {day: n}} from rows of ``day``, ``n`` and the ``split`` column."""
    result: dict[Any, dict[date, float]] = {}
    for row in rows:
        days = result.setdefault(row[split] if split else None, {})
        days[row["day"]] = days.get(row["day"], 0) + row["n"]
    return result


def _name(name_fr: str | None, name_en: str | None) -> str:
    french = (get_language() or "fr").startswith("fr")
    return (name_fr if french else name_en) or name_en or name_fr or ""


def _person(full_name: str | None, email: str | None) -> str:
    return full_name or email or ""


# --- backlog ----------------------------------------------------------------------------------------


def backlog_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """Open tickets at the end of the period (now, for a period running to today) against the end
    of the previous period; unassigned and pending vendor now against the end of the previous
    period, from the ticket history (``facts.intervals``)."""
    now = timezone.now()
    counts = (
        _tickets(scope)
        .filter(_maybe_open_since(min(period.start, now)))
        .aggregate(
            open=Count("pk", filter=_open_at(min(period.end, now))),
            previous=Count("pk", filter=_open_at(min(period.start, now))),
            unassigned=Count("pk", filter=Q(status__in=OPEN, assignee__isnull=True)),
            pending_vendor=Count("pk", filter=Q(status=S.PENDING_VENDOR)),
        )
    )
    before = min(period.start, now)
    stored = facts.use_facts(scope)
    # live, only the tickets open then can have been either (their histories are read in Python)
    candidates = _tickets(scope) if stored else _tickets(scope).filter(_open_at(before))
    unassigned_before = facts.in_state_at(candidates, facts.UNASSIGNED, before, stored=stored)
    pending_before = facts.in_state_at(candidates, facts.PENDING_VENDOR, before, stored=stored)
    return [
        Kpi("open", counts["open"], counts["previous"], better="down"),
        Kpi("unassigned", counts["unassigned"], unassigned_before, better="down"),
        Kpi("pending_vendor", counts["pending_vendor"], pending_before, better="down"),
    ]


def _age_filter(now: datetime, low: int, high: int | None) -> Q:
    condition = Q(created_at__lte=now - timedelta(days=low))
    if high is not None:
        condition &= Q(created_at__gt=now - timedelta(days=high))
    return condition


def backlog(*, scope: Scope, period: Period) -> Table:
    """Tickets open now by status and age. The backlog is today's, whatever the period."""
    now = timezone.now()
    ages = {key: Count("pk", filter=_age_filter(now, low, high)) for key, low, high in AGE_BUCKETS}
    rows = _tickets(scope).filter(status__in=OPEN).values("status").annotate(total=Count("pk"), **ages)
    by_status: dict[str, Mapping[str, Any]] = {row["status"]: row for row in rows}
    labels = {
        "lt1d": _("Less than 1 day"),
        "1_3d": _("1 to 3 days"),
        "3_7d": _("3 to 7 days"),
        "7_30d": _("7 to 30 days"),
        "gt30d": _("30 days or more"),
        "total": _("Total"),
    }
    columns = [(key, labels[key]) for key, _low, _high in AGE_BUCKETS] + [("total", labels["total"])]
    table = Table(key="backlog", columns=columns)
    for status in Ticket.OPEN_STATUSES:
        row = by_status.get(status.value, {})
        counts: list[float | int | str | None] = [int(row.get(key, 0)) for key, _label in columns]
        table.rows.append(Row(key=status.value, label=str(status.label), cells=counts))
    return table


# --- created and resolved ------------------------------------------------------------------------------


def created_resolved(*, scope: Scope, period: Period) -> list[Series]:
    """Tickets created (by ``created_at``) and resolved (by ``resolved_at``) per bucket."""
    series = []
    for key, label, field, inside in (
        ("created", _("Created"), "created_at", _within("created_at", period)),
        ("resolved", _("Resolved"), "resolved_at", _resolved_in(period)),
    ):
        rows = _tickets(scope).filter(inside).values(day=_local_day(field, period)).annotate(n=Count("pk"))
        series.append(Series(key=key, label=label, points=_points(period, _per_day(rows).get(None, {}))))
    return series


def _history_flags(scope: Scope) -> dict[str, Any]:
    """Per ticket: escalated ever, reopened ever, public replies by agents: from its stored facts
    (a ticket the stream has not reached yet counts as none of these), or live from its history."""
    if not facts.use_facts(scope):
        return facts.history_flags()
    return {
        "was_escalated": Coalesce(F("report_facts__was_escalated"), Value(False)),
        "was_reopened": Coalesce(F("report_facts__was_reopened"), Value(False)),
        "public_replies": Coalesce(F("report_facts__public_replies"), Value(0)),
    }


def _flow_counts(scope: Scope, periods: dict[str, Period]) -> dict[str, int]:
    """Created, resolved, created-and-resolved, escalated and first-contact counts of each period,
    in one query: the history flags are read once per ticket of the window, then counted."""
    start = min(p.start for p in periods.values())
    end = max(p.end for p in periods.values())
    # first contact: never reopened, never escalated, at most FCR_MAX_REPLIES public agent replies
    first_contact = Q(was_escalated=False, was_reopened=False, public_replies__lte=FCR_MAX_REPLIES)
    figures: dict[str, Any] = {}
    for name, period in periods.items():
        created, resolved = _within("created_at", period), _resolved_in(period)
        figures[f"{name}_created"] = Count("pk", filter=created)
        figures[f"{name}_resolved"] = Count("pk", filter=resolved)
        figures[f"{name}_done"] = Count("pk", filter=created & Q(resolved_at__isnull=False))
        figures[f"{name}_escalated"] = Count("pk", filter=created & Q(was_escalated=True))
        figures[f"{name}_fcr"] = Count("pk", filter=resolved & first_contact)
    window = _between("created_at", start, end) | Q(status__in=ENDED_RESOLVED) & _between("resolved_at", start, end)
    # distinct (rows are unique anyway) keeps PostgreSQL from inlining the inner query, which
    # would evaluate each history look-up once per count instead of once per ticket
    flagged = _tickets(scope).filter(window).annotate(**_history_flags(scope))
    if not facts.use_facts(scope):
        flagged = flagged.distinct()
    return flagged.aggregate(**figures)


def _reopen_counts(scope: Scope, periods: dict[str, Period]) -> dict[str, int]:
    """Per period: tickets with a resolution (a status event to "resolved") in it, and those of
    them reopened after that resolution (a status event from "resolved" back to an open status)."""
    start = min(p.start for p in periods.values())
    end = max(p.end for p in periods.values())
    figures: dict[str, Any] = {}
    for name, period in periods.items():
        inside = _within("at", period)
        figures[f"{name}_resolutions"] = Count("ticket_id", distinct=True, filter=inside)
        figures[f"{name}_reopened"] = Count("ticket_id", distinct=True, filter=inside & Q(reopened_after=True))
    if facts.use_facts(scope):
        marks = Resolution.objects.filter(ticket__in=_tickets(scope))
    else:
        marks = facts.resolutions().filter(ticket__in=_tickets(scope)).annotate(at=F("created_at"))
    return marks.filter(_between("at", start, end)).order_by().aggregate(**figures)


def flow_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """The period's flow against the previous period of the same length (two queries)."""
    periods = {"now": period, "before": period.previous()}
    c = {**_flow_counts(scope, periods), **_reopen_counts(scope, periods)}

    def pair(make: Callable[[str], float | None]) -> tuple[float | None, float | None]:
        return make("now"), make("before")

    return [
        Kpi("created", *pair(lambda p: c[f"{p}_created"]), better="none"),
        Kpi("resolved", *pair(lambda p: c[f"{p}_resolved"])),
        Kpi("resolution_rate", *pair(lambda p: _percent(c[f"{p}_resolved"], c[f"{p}_created"])), unit="percent"),
        Kpi("resolved_share", *pair(lambda p: _percent(c[f"{p}_done"], c[f"{p}_created"])), unit="percent"),
        Kpi("fcr_rate", *pair(lambda p: _percent(c[f"{p}_fcr"], c[f"{p}_resolved"])), unit="percent"),
        Kpi(
            "reopen_rate",
            *pair(lambda p: _percent(c[f"{p}_reopened"], c[f"{p}_resolutions"])),
            unit="percent",
            better="down",
        ),
        Kpi(
            "escalation_rate",
            *pair(lambda p: _percent(c[f"{p}_escalated"], c[f"{p}_created"])),
            unit="percent",
            better="none",
        ),
    ]


# --- levels and channels ----------------------------------------------------------------------------------


def level_key(level: int | None) -> str | None:
    """The series a resolved level counts in: "L1".."L3", "vendor" for L4/L5, None if unknown."""
    if level is None:
        return None
    return f"L{level}" if level <= 3 else "vendor"


def resolution_by_level(*, scope: Scope, period: Period) -> list[Series]:
    """Tickets resolved per bucket at each level (``resolved_level``), and self-service: the
    knowledge base's deflections of the period, desk-wide (not on an agent's personal figures)."""
    rows = (
        _tickets(scope)
        .filter(_resolved_in(period))
        .values("resolved_level", day=_local_day("resolved_at", period))
        .annotate(n=Count("pk"))
    )
    per_level: dict[str, dict[date, float]] = {key: {} for key in LEVEL_KEYS}
    for level, days in _per_day(rows, split="resolved_level").items():
        key = level_key(level)
        if key is not None:
            for day, n in days.items():
                per_level[key][day] = per_level[key].get(day, 0) + n
    if not scope.filters.personal:
        with timezone.override(period.zone):  # the selector truncates to days in the current zone
            per_level["self"] = dict(kb_selectors.deflections_per_day(start=period.start, end=period.end))
    labels = {
        "self": _("Self-service"),
        "L1": _("Level 1"),
        "L2": _("Level 2"),
        "L3": _("Level 3"),
        "vendor": _("Level 4/5 (vendors)"),
    }
    return [Series(key=key, label=labels[key], points=_points(period, per_level[key])) for key in LEVEL_KEYS]


def channel_mix(*, scope: Scope, period: Period) -> list[Series]:
    """Tickets created per bucket, one series per channel (every channel, zeros included)."""
    rows = (
        _tickets(scope)
        .filter(_within("created_at", period))
        .values("channel", day=_local_day("created_at", period))
        .annotate(n=Count("pk"))
    )
    per_channel = _per_day(rows, split="channel")
    return [
        Series(key=channel.value, label=str(channel.label), points=_points(period, per_channel.get(channel.value, {})))
        for channel in Ticket.Channel
    ]


# --- categories --------------------------------------------------------------------------------------------


def is_rising(count: int, previous_average: float) -> bool:
    """The documented rule for a rising category (see the constants at the top)."""
    return count >= RISING_MIN_COUNT and count >= RISING_FACTOR * previous_average


def top_categories(*, scope: Scope, period: Period) -> Table:
    """Tickets created per category in the period (most first), the average of the previous
    RISING_HISTORY periods of the same length, and whether the category is rising."""
    history_start = period
    for _i in range(RISING_HISTORY):
        history_start = history_start.previous()
    current = _within("created_at", period)
    earlier = _between("created_at", history_start.start, period.start)
    rows = (
        _tickets(scope)
        .filter(_between("created_at", history_start.start, period.end))
        .values("category_id", "category__name_fr", "category__name_en")
        .annotate(count=Count("pk", filter=current), earlier=Count("pk", filter=earlier))
        .filter(count__gt=0)
        .order_by("-count", "category_id")[:TOP_CATEGORIES]
    )
    table = Table(
        key="categories",
        columns=[("count", _("Tickets")), ("previous_avg", _("Previous average")), ("rising", _("Rising"))],
    )
    for row in rows:
        average = round1(row["earlier"] / RISING_HISTORY)
        category = row["category_id"]
        label = _name(row["category__name_fr"], row["category__name_en"]) if category else _("No category")
        rising = 1 if is_rising(row["count"], row["earlier"] / RISING_HISTORY) else 0
        table.rows.append(
            Row(key=str(category) if category else "none", label=label, cells=[row["count"], average, rising])
        )
    return table


# --- workload --------------------------------------------------------------------------------------------


def _first_assignment(scope: Scope) -> Any:
    """When the ticket's current assignee was first given it (``facts.first_assignment``)."""
    if facts.use_facts(scope):
        return F("report_facts__assigned_at")
    return facts.first_assignment()


def agent_workload(*, scope: Scope, period: Period) -> Table:
    """Per agent: open tickets assigned to them now, tickets they resolved in the period (the
    assignee at resolution) and the mean handling time of those, in calendar minutes from their
    first assignment to the resolution."""
    resolved = _resolved_in(period)
    handling = ExpressionWrapper(F("resolved_at") - F("assigned_at"), output_field=DurationField())
    rows = (
        _tickets(scope)
        .filter(assignee__isnull=False)
        .filter(Q(status__in=OPEN) | resolved)
        # looked up only for the tickets resolved in the period (CASE skips the rest)
        .annotate(assigned_at=Case(When(resolved, then=Coalesce(_first_assignment(scope), F("created_at")))))
        .values("assignee_id", "assignee__full_name", "assignee__email")
        .annotate(
            open=Count("pk", filter=Q(status__in=OPEN)),
            resolved=Count("pk", filter=resolved),
            handling=Avg(handling, filter=resolved),
        )
    )
    table = Table(
        key="agents",
        columns=[
            ("open_assigned", _("Open, assigned")),
            ("resolved", _("Resolved")),
            ("avg_handling_minutes", _("Average handling time (minutes)")),
            ("time_logged_minutes", _("Time logged (minutes)")),
        ],
    )
    logged = timelog_selectors.minutes_by_agent(
        ticket_ids_or_scope=scope.tickets, since=period.first, until=period.last
    )
    found: list[tuple[str, dict[str, Any]]] = [
        (_person(r["assignee__full_name"], r["assignee__email"]), dict(r)) for r in rows
    ]
    # who logged time on the scope's tickets without having any assigned to them
    others = set(logged) - {r["assignee_id"] for _label, r in found}
    for person in User.objects.filter(pk__in=others).values("pk", "full_name", "email") if others else ():
        empty = {"assignee_id": person["pk"], "open": 0, "resolved": 0, "handling": None}
        found.append((_person(person["full_name"], person["email"]), empty))
    for label, row in sorted(found, key=lambda item: (-item[1]["resolved"], -item[1]["open"], item[0])):
        minutes = round1(row["handling"].total_seconds() / 60) if row["handling"] is not None else None
        cells: list[float | int | str | None] = [
            row["open"],
            row["resolved"],
            minutes,
            logged.get(row["assignee_id"], 0),
        ]
        table.rows.append(Row(key=str(row["assignee_id"]), label=label, cells=cells))
    return table


def group_workload(*, scope: Scope, period: Period) -> Table:
    """Per group (the ticket's current group; for a resolved ticket the group that resolved it):
    open now, created and resolved in the period, open and unassigned now."""
    created, resolved, open_now = _within("created_at", period), _resolved_in(period), Q(status__in=OPEN)
    rows = (
        _tickets(scope)
        .filter(open_now | created | resolved)
        .values("group_id", "group__name")
        .annotate(
            open=Count("pk", filter=open_now),
            created=Count("pk", filter=created),
            resolved=Count("pk", filter=resolved),
            unassigned=Count("pk", filter=open_now & Q(assignee__isnull=True)),
        )
        .order_by("group__name", "group_id")
    )
    table = Table(
        key="groups",
        columns=[
            ("open", _("Open")),
            ("created", _("Created")),
            ("resolved", _("Resolved")),
            ("unassigned", _("Unassigned")),
        ],
    )
    for row in rows:
        key = str(row["group_id"]) if row["group_id"] else "none"
        label = row["group__name"] or _("No group")
        table.rows.append(
            Row(key=key, label=label, cells=[row["open"], row["created"], row["resolved"], row["unassigned"]])
        )
    return table


METRICS: dict[str, Callable[..., object]] = {
    "backlog_kpis": backlog_kpis,
    "backlog": backlog,
    "created_resolved": created_resolved,
    "flow_kpis": flow_kpis,
    "resolution_by_level": resolution_by_level,
    "channel_mix": channel_mix,
    "top_categories": top_categories,
    "agent_workload": agent_workload,
    "group_workload": group_workload,
}
