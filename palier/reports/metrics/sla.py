"""Service-level figures: compliance, breaches, and the time to first response and to resolution.

They read the SLA engine's clocks (``palier.sla.models.Clock``) of the scope's tickets:

* a clock **ended in the period** when it stopped (``stopped_at``) inside it with a judgement
  (``outcome`` met or missed); a cancelled ticket's clocks stop without one and count nowhere; a
  reopened ticket's resolution clock runs again and counts in the period of its last stop;
* a clock is **running** at the end of the period when it started before that end and had not
  stopped by then (paused clocks included);
* a **breach** is a customer clock (first response, next response, resolution) whose due time
  passed, counted in the period of the instant the SLA sweep recorded it (``breached_at``);
* **business time** is the clock's consumed minutes (its calendar's business minutes, pauses
  excluded); **calendar time** is ``stopped_at - started_at``, pauses included.

Medians use PostgreSQL's ``percentile_cont`` in the same query as the means; SQLite has no such
aggregate, so there one query reads the period's values and Python takes mean and median (fine
for the embedded database's sizes: about 100,000 clocks per period read in well under a second).
Every function runs a constant number of queries, whatever the number of clocks.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, FloatField, Func, Q, QuerySet
from django.utils.translation import gettext as _

from palier.reports.filters import Scope
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Table
from palier.sla.models import Clock
from palier.tickets.models import Ticket

K = Clock.Kind
O = Clock.Outcome  # noqa: E741 (the engine's own short name)
MEASURED = {"response": K.RESPONSE, "resolution": K.RESOLUTION}
BREACH_KINDS = tuple(str(kind) for kind in Clock.CUSTOMER_KINDS)
BREACH_LIMIT = 50
TIME_KEYS = tuple(
    f"{measure}_{clock}_{stat}"
    for measure in MEASURED
    for clock in ("business", "calendar")
    for stat in ("mean", "median")
)


class ElapsedMinutes(Func):
    """Minutes from the first expression to the second (``end - start``), as a float."""

    output_field = FloatField()
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)"
    arg_joiner = " - "

    def __init__(self, start: Any, end: Any) -> None:
        super().__init__(end, start)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="((julianday(%(expressions)s)) * 1440.0)", arg_joiner=") - julianday("
        )


class Median(Aggregate):
    """PostgreSQL's continuous median (interpolates between the two middle values)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _clocks(scope: Scope) -> QuerySet[Clock]:
    """The clocks of the scope's tickets (no subquery when the scope is every ticket)."""
    if not scope.tickets.query.where:
        return Clock.objects.order_by()
    return Clock.objects.filter(ticket_id__in=scope.tickets.order_by().values("pk")).order_by()


def _ended(start: datetime, end: datetime) -> Q:
    return Q(stopped_at__gte=start, stopped_at__lt=end, outcome__in=[O.MET, O.MISSED])


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _compliance(scope: Scope, period: Period, *, running: bool) -> dict[str, dict[str, int]]:
    """{"response"|"resolution": {"met", "breached", "running"}}: one query."""
    start, end = period.start, period.end
    is_running = Q(started_at__lt=end) & (Q(stopped_at__isnull=True) | Q(stopped_at__gte=end))
    wanted = _ended(start, end) | is_running if running else _ended(start, end)
    rows = (
        _clocks(scope)
        .filter(wanted, kind__in=list(MEASURED.values()))
        .values("kind")
        .annotate(
            met=Count("pk", filter=_ended(start, end) & Q(outcome=O.MET)),
            breached=Count("pk", filter=_ended(start, end) & Q(outcome=O.MISSED)),
            running=Count("pk", filter=is_running),
        )
    )
    counts = {measure: {"met": 0, "breached": 0, "running": 0} for measure in MEASURED}
    for row in rows:
        measure = "response" if row["kind"] == K.RESPONSE else "resolution"
        counts[measure] = {"met": row["met"], "breached": row["breached"], "running": row["running"]}
    return counts


def _breach_count(scope: Scope, period: Period) -> tuple[int, int]:
    """Breaches recorded in the period and in the previous one: one query."""
    previous = period.previous()
    totals = (
        _clocks(scope)
        .filter(kind__in=BREACH_KINDS, breached_at__gte=previous.start, breached_at__lt=period.end)
        .aggregate(
            now=Count("pk", filter=Q(breached_at__gte=period.start)),
            before=Count("pk", filter=Q(breached_at__lt=period.start)),
        )
    )
    return int(totals["now"]), int(totals["before"])


def sla_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """First-response and resolution compliance (percent met of the clocks that ended in the
    period) and the number of breaches, with the previous period's. Three queries."""
    now = _compliance(scope, period, running=False)
    before = _compliance(scope, period.previous(), running=False)
    breaches, breaches_before = _breach_count(scope, period)
    kpis = [
        Kpi(
            key=f"{measure}_compliance",
            value=_percent(now[measure]["met"], now[measure]["met"] + now[measure]["breached"]),
            previous=_percent(before[measure]["met"], before[measure]["met"] + before[measure]["breached"]),
            unit="percent",
        )
        for measure in MEASURED
    ]
    kpis.append(Kpi(key="breaches", value=breaches, previous=breaches_before, unit="count", better="down"))
    return kpis


def sla_compliance(*, scope: Scope, period: Period) -> Table:
    """Rows "response" and "resolution": clocks met and breached among those that ended in the
    period, and clocks still running (or paused) at its end. One query."""
    counts = _compliance(scope, period, running=True)
    labels = {"response": _("First response"), "resolution": _("Resolution")}
    columns = [("met", _("Met")), ("breached", _("Breached")), ("running", _("Running"))]
    rows = [
        Row(key=measure, label=labels[measure], cells=[counts[measure][key] for key, _label in columns])
        for measure in MEASURED
    ]
    return Table(key="sla", columns=columns, rows=rows)


def sla_breaches(*, scope: Scope, period: Period) -> Table:
    """The period's breaches of customer clocks, newest first, at most 50. One query."""
    rows = (
        _clocks(scope)
        .filter(kind__in=BREACH_KINDS, breached_at__gte=period.start, breached_at__lt=period.end)
        .order_by("-breached_at", "-pk")
        .values(
            "ticket_id", "ticket__kind", "ticket__number", "ticket__subject", "ticket__group__name",
            "kind", "due_at", "breached_at",
        )[:BREACH_LIMIT]
    )  # fmt: skip
    kinds = dict(Clock.Kind.choices)
    prefixes = Ticket.PREFIXES
    columns = [
        ("reference", _("Ticket")),
        ("subject", _("Subject")),
        ("group", _("Group")),
        ("kind", _("Measure")),
        ("due_at", _("Due")),
        ("breached_at", _("Breached")),
    ]
    table_rows = []
    for row in rows:
        reference = f"{prefixes.get(row['ticket__kind'], 'TKT')}-{row['ticket__number']}"
        cells: list[float | int | str | None] = [
            reference,
            row["ticket__subject"],
            row["ticket__group__name"] or "",
            str(kinds.get(row["kind"], row["kind"])),
            _local(row["due_at"], period),
            _local(row["breached_at"], period),
        ]
        table_rows.append(Row(key=str(row["ticket_id"]), label=f"{reference} {row['ticket__subject']}", cells=cells))
    return Table(key="breaches", columns=columns, rows=table_rows)


def _local(moment: datetime | None, period: Period) -> str | None:
    """An instant as the viewer reads it: ISO 8601 in the period's time zone, to the minute."""
    return moment.astimezone(period.zone).isoformat(timespec="minutes") if moment is not None else None


def _time_stats(scope: Scope, period: Period) -> dict[str, float | None]:
    """The eight time figures of one period (keys of ``TIME_KEYS``): one query."""
    ended = _clocks(scope).filter(_ended(period.start, period.end), kind__in=list(MEASURED.values()))
    if connection.vendor == "postgresql":
        return _stats_in_sql(ended)
    return _stats_in_python(ended)


def _stats_in_sql(ended: QuerySet[Clock]) -> dict[str, float | None]:
    """Means and medians computed by PostgreSQL (``percentile_cont``), nothing read per row."""
    calendar = ElapsedMinutes(F("started_at"), F("stopped_at"))
    aggregates: dict[str, Any] = {}
    for measure, clock_kind in MEASURED.items():
        of_kind = Q(kind=clock_kind)
        for name, expression in (("business", F("consumed_minutes")), ("calendar", calendar)):
            aggregates[f"{measure}_{name}_mean"] = Avg(expression, filter=of_kind)
            aggregates[f"{measure}_{name}_median"] = Median(expression, filter=of_kind)
    raw = ended.aggregate(**aggregates)
    return {key: _minutes(raw[key]) for key in TIME_KEYS}


def _stats_in_python(ended: QuerySet[Clock]) -> dict[str, float | None]:
    """SQLite has no median aggregate: read the period's values (three numbers per clock) once."""
    values: dict[str, list[float]] = {
        f"{measure}_{name}": [] for measure in MEASURED for name in ("business", "calendar")
    }
    rows = ended.annotate(elapsed=ElapsedMinutes(F("started_at"), F("stopped_at")))
    for row_kind, business, elapsed in rows.values_list("kind", "consumed_minutes", "elapsed"):
        measure = "response" if row_kind == K.RESPONSE else "resolution"
        values[f"{measure}_business"].append(float(business))
        values[f"{measure}_calendar"].append(float(elapsed))
    stats: dict[str, float | None] = {}
    for name, found in values.items():
        stats[f"{name}_mean"] = _minutes(statistics.fmean(found) if found else None)
        stats[f"{name}_median"] = _minutes(statistics.median(found) if found else None)
    return stats


def _minutes(value: float | None) -> float | None:
    return round(float(value), 1) if value is not None else None


def time_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """Mean and median minutes to first response and to resolution, in business time (the
    clocks' calendars, pauses excluded) and in calendar time, over the clocks that ended in the
    period, with the previous period's. Two queries."""
    now = _time_stats(scope, period)
    before = _time_stats(scope, period.previous())
    return [Kpi(key=key, value=now[key], previous=before[key], unit="minutes", better="down") for key in TIME_KEYS]


METRICS: dict[str, Callable[..., object]] = {
    "sla_kpis": sla_kpis,
    "sla_compliance": sla_compliance,
    "sla_breaches": sla_breaches,
    "time_kpis": time_kpis,
}
