"""A tiny metric module for the registry and API tests (the real families are tested on their own)."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count

from palier.people.models import User
from palier.reports.filters import Scope
from palier.reports.periods import Period
from palier.reports.types import Kpi, Point, Series, Table
from palier.reports.types import Row as TableRow


def _created(scope: Scope, period: Period) -> int:
    return scope.tickets.filter(created_at__gte=period.start, created_at__lt=period.end).count()


def created_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    return [Kpi(key="created", value=_created(scope, period), previous=_created(scope, period.previous()))]


def created_series(*, scope: Scope, period: Period) -> list[Series]:
    counts: dict[object, int] = {}
    for moment in scope.tickets.filter(created_at__gte=period.start, created_at__lt=period.end).values_list(
        "created_at", flat=True
    ):
        counts[period.bucket_of(moment)] = counts.get(period.bucket_of(moment), 0) + 1
    return [Series(key="created", label="Created", points=[Point(d, counts.get(d, 0)) for d in period.buckets()])]


def by_status(*, scope: Scope, period: Period) -> Table:
    rows = scope.tickets.values("status").annotate(n=Count("id")).order_by("status")
    return Table(
        key="statuses",
        columns=[("count", "Count")],
        rows=[TableRow(key=r["status"], label=f"={r['status']}", cells=[r["n"]]) for r in rows],
    )


def split(*, scope: Scope, period: Period, by: str) -> Table:
    if by not in ("kind", "channel"):
        raise ValueError(by)
    rows = scope.tickets.values(by).annotate(n=Count("id")).order_by(by)
    return Table(key=by, columns=[("count", "Count")], rows=[TableRow(r[by], r[by], [r["n"]]) for r in rows])


def viewer_kpi(*, viewer: User, period: Period) -> Kpi:
    return Kpi(key="days", value=period.days, previous=None)


METRICS: dict[str, Callable[..., object]] = {
    "created_kpis": created_kpis,
    "created_series": created_series,
    "by_status": by_status,
    "split": split,
    "viewer_kpi": viewer_kpi,
}
