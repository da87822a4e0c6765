"""The cost of support (docs/reports-cost.md): labour from time logged × hourly rates, and what the
L4/L5 vendors cost.

* **Labour** = minutes ÷ 60 × the hourly rate in force on the work day: the author's own rate, else
  the rate of their level (the highest level among their in-house groups; 1 without a group).
  Time comes from time entries (by work day) and logged phone calls (by the call's local day).
* **Vendor** = each escalation to a vendor group of level 4 or 5 in the period × that group's cost
  per escalation in force on the escalation's day, plus the hours logged by the vendor's own staff
  (members of a vendor group) × the vendor group's hourly rate (or their own).
* A ticket counts in the scope whatever its creation date; what is dated is the work (work day)
  and the escalation (its local day). ``cost_per_ticket`` divides the total by the tickets that
  had a cost in the period. Breakdowns: the ticket's current category, organisation and group
  (vendor escalations: the vendor group), the level of whoever worked (vendor escalations: the
  vendor's level), the month of the work.

Reads: the rates, the memberships, the time entries and calls summed per person, day and ticket
dimensions (not per ticket: a period's work is thousands of rows, not one per ticket), the vendor
groups and their escalations, the count of tickets that cost something, plus the row labels: a fixed number of queries whatever the volume, made
once per scope and period and shared by the KPIs and every breakdown of a page (``Scope.memo``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from palier.people.models import Organisation, SupportGroup
from palier.reports.filters import Scope
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Table
from palier.tickets.models import Category, TicketEvent
from palier.tickets.models import TimeEntry as CallTime
from palier.timelog import selectors as timelog
from palier.timelog.models import TimeEntry

By = Literal["category", "organisation", "group", "level", "month"]
BY: tuple[By, ...] = ("category", "organisation", "group", "level", "month")
VENDOR_LEVELS = (4, 5)
SIXTY = Decimal(60)
# the ticket field each breakdown groups by (level and month come from the work itself)
TICKET_FIELD = {
    "category": "ticket__category_id",
    "organisation": "ticket__organisation_id",
    "group": "ticket__group_id",
}


@dataclass(frozen=True)
class Cost:
    """One slice of cost: where it goes (``key``), how much of what."""

    key: str
    minutes: int = 0
    labour: Decimal = Decimal(0)
    vendor: Decimal = Decimal(0)


@dataclass(frozen=True)
class Work:
    """Minutes one person logged on one day on tickets of the same category, organisation and group
    (time entries and calls alike)."""

    author_id: int | None
    day: date
    minutes: int
    dimensions: dict[str, Any]  # the ticket's category, organisation and group ids


@dataclass(frozen=True)
class Escalation:
    day: date
    group_id: int
    level: int
    dimensions: dict[str, Any]


@dataclass(frozen=True)
class Ledger:
    """What the period cost, before any breakdown: read once per scope and period, shared by the
    KPIs and every breakdown of one page (``Scope.memo``)."""

    work: list[Work]
    escalations: list[Escalation]
    book: timelog.RateBook
    staff: dict[int, timelog.Staffing]
    tickets: int  # tickets with work or a vendor escalation in the period


DIMENSIONS = list(TICKET_FIELD.values())


def _dims(row: dict[str, Any]) -> dict[str, Any]:
    return {field: row[field] for field in DIMENSIONS}


def _entries(scope: Scope, period: Period) -> QuerySet[TimeEntry]:
    return TimeEntry.objects.filter(ticket__in=scope.tickets, work_date__gte=period.first, work_date__lte=period.last)


def _calls(scope: Scope, period: Period) -> QuerySet[CallTime]:
    return CallTime.objects.filter(ticket__in=scope.tickets, created_at__gte=period.start, created_at__lt=period.end)


def _work(scope: Scope, period: Period) -> list[Work]:
    """The period's time entries (by work day) and calls (by their local day), summed per person,
    day and the ticket's category, organisation and group (the price depends on no more)."""
    entries = _entries(scope, period).values("author_id", "work_date", *DIMENSIONS).annotate(total=Sum("minutes"))
    found = [Work(r["author_id"], r["work_date"], int(r["total"]), _dims(r)) for r in entries.order_by()]
    calls = (
        _calls(scope, period)
        .annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .values("user_id", "day", *DIMENSIONS)
        .annotate(total=Sum("minutes"))
        .order_by()
    )
    found.extend(Work(r["user_id"], r["day"], int(r["total"]), _dims(r)) for r in calls)
    return found


def _vendors() -> dict[str, tuple[int, int]]:
    """The L4/L5 vendor groups by name (escalation events name the group): (id, level)."""
    return {
        name: (pk, level)
        for pk, name, level in SupportGroup.objects.filter(is_vendor=True, level__in=VENDOR_LEVELS).values_list(
            "pk", "name", "level"
        )
    }


def _escalation_events(scope: Scope, period: Period, vendors: dict[str, tuple[int, int]]) -> QuerySet[TicketEvent]:
    return TicketEvent.objects.filter(
        ticket__in=scope.tickets,
        kind=TicketEvent.Kind.ESCALATED,
        created_at__gte=period.start,
        created_at__lt=period.end,
        data__to_group__in=list(vendors),
    )


def _escalations(scope: Scope, period: Period, vendors: dict[str, tuple[int, int]]) -> list[Escalation]:
    if not vendors:
        return []
    found = []
    for row in _escalation_events(scope, period, vendors).values("created_at", "data__to_group", *DIMENSIONS):
        group_id, level = vendors[row["data__to_group"]]
        day = row["created_at"].astimezone(period.zone).date()
        found.append(Escalation(day, group_id, level, _dims(row)))
    return found


def _tickets_with_cost(scope: Scope, period: Period, vendors: dict[str, tuple[int, int]]) -> int:
    """How many distinct tickets had work or a vendor escalation in the period (one query)."""
    ids = _entries(scope, period).order_by().values("ticket_id")
    ids = ids.union(_calls(scope, period).order_by().values("ticket_id"))
    if vendors:
        ids = ids.union(_escalation_events(scope, period, vendors).order_by().values("ticket_id"))
    return ids.count()


def _ledger(scope: Scope, period: Period) -> Ledger:
    key = ("cost", period.first, period.last, period.zone.key)
    if key not in scope.memo:
        vendors = _vendors()
        scope.memo[key] = Ledger(
            _work(scope, period),
            _escalations(scope, period, vendors),
            timelog.rate_book(),
            timelog.staffing(),
            _tickets_with_cost(scope, period, vendors),
        )
    ledger: Ledger = scope.memo[key]
    return ledger


def _labour(ledger: Ledger, by: By | None) -> Iterator[Cost]:
    default = timelog.Staffing(level=1)
    field = TICKET_FIELD.get(by or "")
    for work in ledger.work:
        who = ledger.staff.get(work.author_id or 0, default)
        hours = Decimal(work.minutes) / SIXTY
        dimension = work.dimensions[field] if field else None
        if who.vendor_group_id is not None:
            rate = ledger.book.vendor(group_id=who.vendor_group_id, day=work.day, agent_id=work.author_id)
            price = hours * (rate.hourly_rate if rate is not None else 0)
            key = _key(by, dimension, level=who.vendor_level or VENDOR_LEVELS[0], day=work.day)
            yield Cost(key=key, minutes=work.minutes, vendor=price)
        else:
            price = hours * ledger.book.hourly(agent_id=work.author_id or 0, level=who.level, day=work.day)
            key = _key(by, dimension, level=who.level, day=work.day)
            yield Cost(key=key, minutes=work.minutes, labour=price)


def _vendor(ledger: Ledger, by: By | None) -> Iterator[Cost]:
    field = TICKET_FIELD.get(by or "")
    for escalation in ledger.escalations:
        rate = ledger.book.vendor(group_id=escalation.group_id, day=escalation.day)
        value = escalation.group_id if by == "group" else (escalation.dimensions[field] if field else None)
        price = rate.per_escalation if rate is not None else Decimal(0)
        key = _key(by, value, level=escalation.level, day=escalation.day)
        yield Cost(key=key, vendor=price)


def _key(by: By | None, dimension: Any, *, level: int, day: date) -> str:
    if by == "level":
        return f"L{level}"
    if by == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if by is None:
        return "total"
    return "none" if dimension is None else str(dimension)


def _costs(scope: Scope, period: Period, by: By | None) -> list[Cost]:
    ledger = _ledger(scope, period)
    return [*_labour(ledger, by), *_vendor(ledger, by)]


def _totals(scope: Scope, period: Period) -> tuple[int, Decimal, int]:
    """Minutes, money, and the number of tickets that cost something."""
    costs = _costs(scope, period, None)
    total = sum((c.labour + c.vendor for c in costs), Decimal(0))
    return sum(c.minutes for c in costs), total, _ledger(scope, period).tickets


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def cost_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """ "cost_total" and "cost_per_ticket" (money, in ``PALIER_CURRENCY``), "time_logged_minutes"."""
    now = _totals(scope, period)
    before = _totals(scope, period.previous())

    def per_ticket(figures: tuple[int, Decimal, int]) -> float | None:
        return _money(figures[1] / figures[2]) if figures[2] else None

    return [
        Kpi("cost_total", _money(now[1]), _money(before[1]), unit="money", better="down"),
        Kpi("cost_per_ticket", per_ticket(now), per_ticket(before), unit="money", better="down"),
        Kpi("time_logged_minutes", float(now[0]), float(before[0]), unit="minutes", better="none"),
    ]


def _labels(by: By, keys: set[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    if by == "category":
        return {str(c.pk): c.name for c in Category.objects.filter(pk__in=ids)}
    if by == "organisation":
        return {str(pk): name for pk, name in Organisation.objects.filter(pk__in=ids).values_list("pk", "name")}
    if by == "group":
        return {str(pk): name for pk, name in SupportGroup.objects.filter(pk__in=ids).values_list("pk", "name")}
    if by == "level":
        return {k: _("Level %(level)s") % {"level": k[1:]} for k in keys}
    return {k: date_format(date(int(k[:4]), int(k[5:7]), 1), "YEAR_MONTH_FORMAT") for k in keys}


def cost_by(*, scope: Scope, period: Period, by: By) -> Table:
    """The period's cost broken down ``by`` category, organisation, group, level or month: columns
    "minutes", "labour", "vendor", "total"; rows by key ("none": no category/organisation/group),
    the most expensive first (months in order)."""
    if by not in BY:
        raise ValueError(f"unknown breakdown {by!r}")
    sums: dict[str, list[Any]] = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for cost in _costs(scope, period, by):
        figures = sums[cost.key]
        figures[0] += cost.minutes
        figures[1] += cost.labour
        figures[2] += cost.vendor
    labels = _labels(by, set(sums))
    rows = [
        Row(
            key=key,
            label=labels.get(key, _("None") if key == "none" else key),
            cells=[round(float(m), 1), _money(labour), _money(vendor), _money(labour + vendor)],
        )
        for key, (m, labour, vendor) in sums.items()
    ]
    rows.sort(key=(lambda r: r.key) if by == "month" else (lambda r: (-float(r.cells[3] or 0), r.label)))
    columns = [
        ("minutes", _("Time logged (min)")),
        ("labour", _("Labour")),
        ("vendor", _("Vendors")),
        ("total", _("Total")),
    ]
    return Table(key=f"cost_{by}", columns=columns, rows=rows)


def _by(by: By) -> Callable[..., Table]:
    def metric(*, scope: Scope, period: Period) -> Table:
        return cost_by(scope=scope, period=period, by=by)

    metric.__name__ = f"cost_by_{by}"
    return metric


METRICS: dict[str, Callable[..., object]] = {
    "cost": cost_kpis,
    **{f"cost-by-{by}": _by(by) for by in BY},
}
