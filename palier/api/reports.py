"""The reports API: the dashboards' figures as JSON, and any report table as CSV or XLSX.

``GET /reports/`` lists the metrics; ``GET /reports/{name}`` computes one for a period
(``period`` preset, or ``period=custom`` with ``since``/``until``; days in ``tz``, by default the
caller's time zone) and the dashboards' filters. Bad values answer 422 naming the field; a
requester (or anyone without the figures) 403; an unknown metric 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router

from palier.api.auth import current_user
from palier.api.schemas.reports import MetricOut, ReportOut, ReportQuery
from palier.people.models import User
from palier.reports import exports, registry, selectors, services
from palier.reports.filters import parse_filters, scope_for, today_in
from palier.reports.periods import Period, period_for
from palier.reports.types import Kpi, Series, Table

router = Router()


def _zone(raw: str | None, user: User) -> ZoneInfo:
    if not raw:
        return selectors.viewer_zone(user)
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError({"tz": _("Unknown time zone “%(value)s”.") % {"value": raw[:60]}}) from exc


def _day(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError({field: _("Enter a date (YYYY-MM-DD).")}) from exc


def _period(query: ReportQuery, user: User) -> Period:
    zone = _zone(query.tz, user)
    first, last = _day(query.since, "since"), _day(query.until, "until")
    return period_for(query.period, zone=zone, today=today_in(zone.key), first=first, last=last)


def _shape(result: object) -> dict[str, Any]:
    """A metric's result as the ``kind`` and the one field of ``ReportOut`` it fills."""
    if isinstance(result, Kpi):
        return {"kind": "kpi", "kpis": [_kpi(result)]}
    if isinstance(result, Table):
        return {"kind": "table", "table": _table(result)}
    if isinstance(result, list) and all(isinstance(r, Kpi) for r in result):
        return {"kind": "kpis", "kpis": [_kpi(k) for k in result]}
    if isinstance(result, list) and all(isinstance(r, Series) for r in result):
        return {"kind": "series", "series": result}
    raise TypeError(f"unexpected metric result {type(result).__name__}")


def _kpi(kpi: Kpi) -> dict[str, Any]:
    return {
        "key": kpi.key,
        "value": kpi.value,
        "previous": kpi.previous,
        "unit": kpi.unit,
        "better": kpi.better,
        "direction": kpi.direction,
    }


def _table(table: Table) -> dict[str, Any]:
    return {
        "key": table.key,
        "columns": [{"key": key, "label": str(label)} for key, label in table.columns],
        "rows": table.rows,
    }


@router.get("/", response=list[MetricOut])
def list_metrics(request: HttpRequest) -> list[dict[str, Any]]:
    """The metrics this desk computes: name (the URL slug), family, and any extra option."""
    current_user(request)
    return [{"name": m.name, "family": m.family, "options": m.options} for m in registry.metrics().values()]


@router.get("/{name}", response=ReportOut)
def get_metric(request: HttpRequest, name: str, query: Query[ReportQuery]) -> Any:
    """One metric for the period and filters. ``format=csv`` or ``format=xlsx`` downloads a table."""
    user = current_user(request)
    metric = registry.get(name)
    if metric is None:
        raise Http404(name)
    if query.format not in (None, "", *exports.FORMATS):
        raise ValidationError({"format": _("Choose one of: %(expected)s.") % {"expected": "csv, xlsx"}})
    filters = parse_filters(request.GET, personal=query.personal)
    period = _period(query, user)
    scope = scope_for(user, filters)
    result = registry.run(metric, scope=scope, period=period, options=request.GET)
    if query.format:
        response = _download(name, result, query.format)
        rows = len(result.rows) if isinstance(result, Table) else None
        services.record_export(by=user, what=f"report:{name}", fmt=query.format, rows=rows, filters=dict(request.GET))
        return response
    return {
        "name": metric.name,
        "family": metric.family,
        "period": {"first": period.first, "last": period.last, "zone": period.zone.key, "bucket": period.bucket},
        **_shape(result),
    }


def _download(name: str, result: object, fmt: str) -> HttpResponse:
    if not isinstance(result, Table):
        raise ValidationError({"format": _("Only tables can be downloaded as a file.")})
    response = HttpResponse(exports.export_table(result, fmt), content_type=exports.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
