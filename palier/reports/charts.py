"""Charts of the dashboards: server-side SVG drawn by pygal, inlined in the page.

Lines for series over time, bars for a breakdown (one column of a ``Table``), a stacked bar for
the resolution by level. The SVG needs nothing from outside: no script (``js=[]``), no XML
declaration, no pygal script, comment or namespace URL, our own colours and the page's font. Every bar
and point links to the ticket list behind it (``xlink``). Each chart comes with a sentence that
says what it shows (its text alternative) and a table of the same numbers, with the same links,
for a ``<details>`` view. Labels arrive translated; days are written in the active language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

import pygal  # type: ignore[import-untyped]  # no type hints published
from django.utils import formats
from django.utils.translation import gettext as _
from pygal.style import Style  # type: ignore[import-untyped]

from palier.reports.types import Row, Series, Table

# our palette (Bootstrap-compatible, distinguishable by most colour-blind readers)
COLOURS = ("#0b5cad", "#d9822b", "#2f8a4c", "#b3261e", "#6f42c1", "#12838e", "#8a6d00", "#6c757d")
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#212529",
    foreground_strong="#212529",
    foreground_subtle="#6c757d",
    opacity=".85",
    opacity_hover="1",
    colors=COLOURS,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=16,
    major_label_font_size=16,
    legend_font_size=16,
    value_font_size=14,
    tooltip_font_size=14,
)
_CLEAN = (  # pygal always writes its settings in a script, and its name in comments
    (re.compile(r"<script\b[^>]*?(/>|>.*?</script>)", re.S), ""),
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r'\s+xmlns(:xlink)?="[^"]*"'), ""),
    (re.compile(r'\sstyle="opacity: 0"'), ' opacity="0"'),  # an attribute, not inline style (CSP)
    # the charts' CSS is a file (``stylesheet()``): the page's CSP refuses inline <style>
    (re.compile(r"<style\b[^>]*>.*?</style>", re.S), ""),
)
_CHART_ID = re.compile(r"#chart-[0-9a-f-]{36}")

Link = Callable[..., str | None]


@dataclass(frozen=True)
class Cell:
    text: str
    url: str | None = None


@dataclass(frozen=True)
class RowView:
    label: str
    cells: list[Cell]
    url: str | None = None


@dataclass(frozen=True)
class TableView:
    """A table ready for a template: column labels, rows of formatted cells with their links."""

    columns: list[str]
    rows: list[RowView] = field(default_factory=list)
    heading: str = ""  # the header of the rows' label column


@dataclass(frozen=True)
class Chart:
    svg: str  # inline SVG, safe to insert as is
    summary: str  # the chart in one or two sentences (its text alternative)
    table: TableView  # the same numbers, for the table view


def day_label(day: date, *, weekly: bool) -> str:
    """A bucket's name in the active language: "7 déc." / "Dec 7", "semaine du …" for weeks."""
    text = formats.date_format(day, "MONTH_DAY_FORMAT")
    return _("week of %(day)s") % {"day": text} if weekly else text


def _number(value: float | int | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return formats.number_format(value, decimal_pos=0 if float(value).is_integer() else 1, use_l10n=True)


def _render(chart: Any, title: str) -> str:
    svg = str(chart.render(is_unicode=True))
    for pattern, replacement in _CLEAN:
        svg = pattern.sub(replacement, svg)
    return svg.replace("<title>Pygal</title>", f"<title>{escape(title)}</title>", 1)


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The CSS pygal writes into each chart, scoped to every chart (``.pygal-chart``) instead of one
    chart's id: served as a file (``reports:charts-css``), since the pages allow no inline style."""
    blocks: list[str] = []
    for chart in (pygal.Line(**_config()), pygal.StackedBar(**_config()), pygal.HorizontalBar(**_config())):
        chart.add("", [1])
        for css in re.findall(r"<style\b[^>]*>(.*?)</style>", str(chart.render(is_unicode=True)), re.S):
            scoped = _CHART_ID.sub(".pygal-chart", css)
            if scoped not in blocks:
                blocks.append(scoped)
    return "\n".join(blocks)


def _config(**extra: Any) -> dict[str, Any]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": STYLE,
        "height": 400,
        "width": 800,
        "legend_at_bottom": True,
        "print_values": False,
        "show_minor_x_labels": True,
        "truncate_label": 24,
        "no_data_text": _("No data"),
        **extra,
    }


def _whole_ticks(values: Sequence[float | None]) -> list[int] | None:
    """Axis marks 0, n, 2n… for counts (pygal would mark 0.1, 0.2… under a count of 1); None when
    the values are not all whole numbers."""
    numbers = [v for v in values if v is not None]
    if not numbers or any(not float(v).is_integer() for v in numbers):
        return None
    top = max(1, int(max(numbers)))
    step = max(1, -(-top // 8))
    return list(range(0, top + step, step))


def _point(value: float | int | None, url: str | None, label: str) -> dict[str, Any]:
    point: dict[str, Any] = {"value": value, "label": label}
    if url:
        point["xlink"] = {"href": url}
    return point


def _series_table(series: list[Series], *, weekly: bool, link: Link) -> TableView:
    days = [p.day for p in series[0].points] if series else []
    rows = []
    for i, day in enumerate(days):
        cells = [Cell(_number(s.points[i].value), link(s.key, day)) for s in series if i < len(s.points)]
        rows.append(RowView(day_label(day, weekly=weekly), cells))
    return TableView([s.label for s in series], rows, _("Week") if weekly else _("Day"))


def _series_summary(series: list[Series], *, weekly: bool) -> str:
    parts = []
    for s in series:
        if not s.points:
            continue
        top = max(s.points, key=lambda p: p.value)
        total = sum(p.value for p in s.points)
        parts.append(
            _("%(series)s: %(total)s in all, at most %(top)s (%(day)s).")
            % {
                "series": s.label,
                "total": _number(total),
                "top": _number(top.value),
                "day": day_label(top.day, weekly=weekly),
            }
        )
    return " ".join(parts) or _("No data for this period.")


def series_chart(series: list[Series], *, title: str, weekly: bool, link: Link, stacked: bool = False) -> Chart:
    """Lines (or stacked bars) over the period's buckets; ``link(series_key, day)`` is a point's
    ticket list."""
    days = [p.day for p in series[0].points] if series else []
    labels = [day_label(day, weekly=weekly) for day in days]
    chart_type = pygal.StackedBar if stacked else pygal.Line
    many = len(days) > 16
    chart = chart_type(**_config(x_label_rotation=30 if many else 0, show_minor_x_labels=not many, dots_size=3))
    chart.x_labels = labels
    totals = [sum(p.value for s in series for p in s.points if p.day == day) for day in days] if stacked else []
    ticks = _whole_ticks(totals if stacked else [p.value for s in series for p in s.points])
    if ticks:
        chart.y_labels = ticks
    if many:
        chart.x_labels_major_every = max(1, len(days) // 10)
    for s in series:
        chart.add(
            s.label,
            [
                _point(p.value, link(s.key, p.day), f"{labels[i]}: {_number(p.value)}" if i < len(labels) else "")
                for i, p in enumerate(s.points)
            ],
        )
    return Chart(
        _render(chart, title), _series_summary(series, weekly=weekly), _series_table(series, weekly=weekly, link=link)
    )


def _column(table: Table, column: str | None) -> int:
    keys = [key for key, _label in table.columns]
    return keys.index(column) if column in keys else 0


def _numeric(value: float | int | str | None) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def bar_chart(
    table: Table, *, title: str, column: str | None, link: Callable[[Row], str | None], table_view: TableView
) -> Chart:
    """One bar per row of ``table`` (the value of ``column``, the first one by default);
    ``link(row)`` is a bar's ticket list."""
    index = _column(table, column)
    chart = pygal.HorizontalBar(**_config(show_legend=False, height=max(200, 44 * len(table.rows) + 100)))
    values = [_numeric(row.cells[index]) if index < len(row.cells) else None for row in table.rows]
    bars = list(zip(values, table.rows, strict=True))[::-1]  # pygal draws the first bar at the bottom
    chart.x_labels = [row.label for _v, row in bars]
    ticks = _whole_ticks(values)
    if ticks:
        chart.y_labels = ticks
    chart.add(
        table.columns[index][1] if table.columns else title,
        [_point(v, link(row), f"{row.label}: {_number(v)}") for v, row in bars],
    )
    ranked = sorted(((v, row.label) for v, row in zip(values, table.rows, strict=True) if v), key=lambda x: -x[0])
    if ranked:
        top = ", ".join(f"{label} ({_number(v)})" for v, label in ranked[:3])
        summary = _("%(title)s, highest first: %(top)s.") % {"title": title, "top": top}
    else:
        summary = _("No data for this period.")
    return Chart(_render(chart, title), summary, table_view)
