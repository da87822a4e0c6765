"""Shapes of the reports API: a metric's name, and its result (KPIs, series or a table)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Schema


class MetricOut(Schema):
    name: str
    family: str
    options: list[str]


class PeriodOut(Schema):
    first: date
    last: date
    zone: str
    bucket: Literal["day", "week"]


class KpiOut(Schema):
    key: str
    value: float | None
    previous: float | None
    unit: str
    better: str
    direction: str


class PointOut(Schema):
    day: date
    value: float


class SeriesOut(Schema):
    key: str
    label: str
    points: list[PointOut]


class ColumnOut(Schema):
    key: str
    label: str


class RowOut(Schema):
    key: str
    label: str
    cells: list[float | int | str | None]


class TableOut(Schema):
    key: str
    columns: list[ColumnOut]
    rows: list[RowOut]


class ReportOut(Schema):
    """One metric for the period: ``kind`` says which of ``kpis``, ``series`` or ``table`` is set
    ("kpi": a single KPI, in ``kpis``)."""

    name: str
    family: str
    period: PeriodOut
    kind: Literal["kpi", "kpis", "series", "table"]
    kpis: list[KpiOut] | None = None
    series: list[SeriesOut] | None = None
    table: TableOut | None = None


class ReportQuery(Schema):
    """The period and filters of a report (the same as the dashboard pages')."""

    period: str = "30d"
    since: str | None = None
    until: str | None = None
    tz: str | None = None
    group: str | None = None
    level: str | None = None
    category: str | None = None
    organisation: str | None = None
    channel: str | None = None
    kind: str | None = None
    priority: list[str] = []
    personal: bool = False
    format: str | None = None
