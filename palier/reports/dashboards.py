"""The dashboards as view-models: which panels each one shows, their figures, charts and links.

Two dashboards. The team dashboard (managers: their groups; administrators: every group) and the
personal one (every agent: the tickets assigned to them). Their panels are data,
``TEAM_PANELS`` and ``PERSONAL_PANELS``: the metric's path under ``palier.reports.metrics``
(``"flow.backlog"``), how to show it ("kpis", "line", "bars", "stacked" or "table") and a title.
``metric(path)`` is the one place that finds a metric function. ``build_dashboard`` reads the
period and the filters (refusing bad values with one message per field), computes each panel
and turns it into cards, charts and tables whose every number links to the ticket list behind
it (``drill.py``). A panel whose metric fails says "unavailable" and logs the error: one broken
figure never takes the page down. No HTML here: the pages render these objects.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NamedTuple, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from palier.people import selectors as people_selectors
from palier.people.models import User
from palier.reports import charts, drill
from palier.reports.filters import ReportFilters, parse_filters, scope_for
from palier.reports.periods import Period, period_for
from palier.reports.types import Kpi, Row, Series, Table
from palier.tickets import selectors as ticket_selectors

logger = logging.getLogger(__name__)

Kind = Literal["kpis", "line", "bars", "stacked", "table"]
METRICS_PACKAGE = "palier.reports.metrics"
DEFAULT_PERIOD = "30d"


class PanelSpec(NamedTuple):
    """One panel of a dashboard: the metric, how it is shown, its title, and options: extra
    keyword arguments of the metric (``by`` of ``cost.cost_by``), the ``column`` a bar chart
    draws, ``units`` of table columns ("minutes", "money", "percent", "score"), the ``rows`` a
    table shows at most, and the ``keys`` of the KPIs shown (all by default)."""

    path: str
    kind: Kind
    title: Promise
    options: Mapping[str, Any] = {}


MONEY_COLUMNS = {"minutes": "minutes", "labour": "money", "vendor": "money", "total": "money"}

TEAM_PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("flow.backlog_kpis", "kpis", gettext_lazy("Backlog")),
    PanelSpec("flow.backlog", "table", gettext_lazy("Open tickets by status and age")),
    PanelSpec("flow.flow_kpis", "kpis", gettext_lazy("Created and resolved")),
    PanelSpec("flow.created_resolved", "line", gettext_lazy("Created and resolved over time")),
    PanelSpec("sla.sla_kpis", "kpis", gettext_lazy("Service levels")),
    PanelSpec("sla.sla_compliance", "table", gettext_lazy("SLA compliance")),
    PanelSpec("sla.time_kpis", "kpis", gettext_lazy("Time to respond and to resolve")),
    PanelSpec("sla.sla_breaches", "table", gettext_lazy("Latest breaches"), {"rows": 10}),
    PanelSpec("flow.resolution_by_level", "stacked", gettext_lazy("Resolution by level")),
    PanelSpec("satisfaction.csat_kpis", "kpis", gettext_lazy("Satisfaction")),
    PanelSpec("satisfaction.csat_distribution", "bars", gettext_lazy("Satisfaction scores"), {"column": "count"}),
    PanelSpec("satisfaction.csat_by_group", "table", gettext_lazy("Satisfaction by group")),
    PanelSpec("satisfaction.csat_by_agent", "table", gettext_lazy("Satisfaction by agent")),
    PanelSpec("satisfaction.csat_comments", "table", gettext_lazy("Latest comments")),
    PanelSpec("flow.channel_mix", "line", gettext_lazy("Channel mix")),
    PanelSpec("flow.top_categories", "bars", gettext_lazy("Top categories"), {"column": "count"}),
    PanelSpec("flow.agent_workload", "table", gettext_lazy("Agent workload")),
    PanelSpec("flow.group_workload", "table", gettext_lazy("Group workload")),
    PanelSpec("knowledge.knowledge_kpis", "kpis", gettext_lazy("Knowledge base")),
    PanelSpec("knowledge.top_articles", "table", gettext_lazy("Articles most used")),
    PanelSpec("knowledge.failed_searches", "table", gettext_lazy("Searches without a result")),
    PanelSpec("cost.cost_kpis", "kpis", gettext_lazy("Cost of support")),
    PanelSpec(
        "cost.cost_by",
        "bars",
        gettext_lazy("Cost by group"),
        {"by": "group", "column": "total", "units": MONEY_COLUMNS},
    ),
    PanelSpec("cost.cost_by", "table", gettext_lazy("Cost by level"), {"by": "level", "units": MONEY_COLUMNS}),
    PanelSpec("cost.cost_by", "table", gettext_lazy("Cost by month"), {"by": "month", "units": MONEY_COLUMNS}),
    PanelSpec("problems.problem_kpis", "kpis", gettext_lazy("Problems")),
    PanelSpec("changes.change_kpis", "kpis", gettext_lazy("Changes")),
    PanelSpec("changes.changes_by_risk", "table", gettext_lazy("Changes by risk")),
    PanelSpec("changes.failed_changes", "table", gettext_lazy("Failed changes"), {"rows": 10}),
)
PERSONAL_PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("flow.backlog_kpis", "kpis", gettext_lazy("My backlog")),
    PanelSpec("flow.backlog", "table", gettext_lazy("My open tickets by status and age")),
    PanelSpec("flow.flow_kpis", "kpis", gettext_lazy("Created and resolved")),
    PanelSpec("flow.created_resolved", "line", gettext_lazy("Created and resolved over time")),
    PanelSpec("sla.sla_kpis", "kpis", gettext_lazy("Service levels")),
    PanelSpec("sla.time_kpis", "kpis", gettext_lazy("Time to respond and to resolve")),
    PanelSpec("sla.sla_breaches", "table", gettext_lazy("Latest breaches"), {"rows": 10}),
    PanelSpec("satisfaction.csat_kpis", "kpis", gettext_lazy("Satisfaction")),
    PanelSpec("satisfaction.csat_distribution", "bars", gettext_lazy("Satisfaction scores"), {"column": "count"}),
    PanelSpec("satisfaction.csat_comments", "table", gettext_lazy("Latest comments")),
    PanelSpec("flow.top_categories", "bars", gettext_lazy("Top categories"), {"column": "count"}),
    # an agent sees their time, not what it costs
    PanelSpec("cost.cost_kpis", "kpis", gettext_lazy("Time logged"), {"keys": ("time_logged_minutes",)}),
)

KPI_LABELS: dict[str, Promise] = {
    "open": gettext_lazy("Open tickets"),
    "unassigned": gettext_lazy("Unassigned"),
    "pending_vendor": gettext_lazy("Pending vendor"),
    "created": gettext_lazy("Tickets created"),
    "resolved": gettext_lazy("Tickets resolved"),
    "resolution_rate": gettext_lazy("Resolution rate (resolved ÷ created)"),
    "resolved_share": gettext_lazy("Share of the period's tickets resolved"),
    "fcr_rate": gettext_lazy("First-contact resolution"),
    "reopen_rate": gettext_lazy("Reopen rate"),
    "escalation_rate": gettext_lazy("Escalation rate"),
    "response_compliance": gettext_lazy("First responses on time"),
    "resolution_compliance": gettext_lazy("Resolutions on time"),
    "breaches": gettext_lazy("Breaches"),
    "response_business_mean": gettext_lazy("First response, mean (business time)"),
    "response_business_median": gettext_lazy("First response, median (business time)"),
    "response_calendar_mean": gettext_lazy("First response, mean (calendar time)"),
    "response_calendar_median": gettext_lazy("First response, median (calendar time)"),
    "resolution_business_mean": gettext_lazy("Resolution, mean (business time)"),
    "resolution_business_median": gettext_lazy("Resolution, median (business time)"),
    "resolution_calendar_mean": gettext_lazy("Resolution, mean (calendar time)"),
    "resolution_calendar_median": gettext_lazy("Resolution, median (calendar time)"),
    "csat_average": gettext_lazy("Average score"),
    "csat_response_rate": gettext_lazy("Survey response rate"),
    "views": gettext_lazy("Article views"),
    "deflections": gettext_lazy("Deflections"),
    "helpful_votes": gettext_lazy("Helpful votes"),
    "cost_total": gettext_lazy("Total cost"),
    "cost_per_ticket": gettext_lazy("Cost per ticket"),
    "time_logged_minutes": gettext_lazy("Time logged"),
    "problems_opened": gettext_lazy("Problems opened"),
    "problems_resolved": gettext_lazy("Problems resolved"),
    "known_errors_open": gettext_lazy("Open known errors"),
    "incidents_with_problem_share": gettext_lazy("Incidents linked to a problem"),
    "changes_closed": gettext_lazy("Changes closed"),
    "change_success_rate": gettext_lazy("Change success rate"),
    "changes_failed": gettext_lazy("Failed changes"),
    "emergency_share": gettext_lazy("Emergency changes"),
}
ARROWS = {"up": "▲", "down": "▼", "flat": "▶", "none": ""}


def metric(path: str) -> Callable[..., object]:
    """The metric function at ``palier.reports.metrics.<path>`` (``"flow.backlog"``)."""
    return cast(Callable[..., object], import_string(f"{METRICS_PACKAGE}.{path}"))


def viewer_zone(user: User) -> ZoneInfo:
    """The viewer's time zone: their working time zone, else the desk's."""
    for name in (user.work_time_zone, settings.TIME_ZONE):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


# --- formatting ------------------------------------------------------------------------------------


def format_minutes(minutes: float) -> str:
    """ "2 h 05", "45 min"."""
    hours, rest = divmod(round(minutes), 60)
    return (
        f"{formats.number_format(hours, use_l10n=True, force_grouping=True)} h {rest:02d}" if hours else f"{rest} min"
    )


def format_value(value: float | int | str | None, unit: str = "count") -> str:
    """A figure as people read it, in the active language."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return _moment(value)
    if unit == "minutes":
        return format_minutes(float(value))
    if unit == "money":
        number = formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
        return f"{number} {getattr(settings, 'PALIER_CURRENCY', 'EUR')}"
    decimals = 0 if unit == "count" and float(value).is_integer() else 1
    number = formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    if unit == "percent":
        return f"{number} %"
    return f"{number} / 5" if unit == "score" else number


def _moment(text: str) -> str:
    """An ISO date-time cell (``2026-05-04T09:30+02:00``) as a short local date and time; other
    text as it is."""
    if len(text) < 16 or text[4:5] != "-" or "T" not in text:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return formats.date_format(moment, "SHORT_DATETIME_FORMAT", use_l10n=True)


# --- view-models -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiCard:
    key: str
    label: str
    value: str
    previous: str
    direction: str  # "up", "down", "flat", "none"
    arrow: str
    tone: str  # "good", "bad" or "neutral": the arrow's colour
    url: str | None


@dataclass
class Panel:
    key: str  # unique on the page (an HTML id)
    title: str
    kind: Kind
    path: str  # the metric, "<module>.<function>"
    result: object | None = None  # what the metric returned
    unavailable: bool = False
    cards: list[KpiCard] = field(default_factory=list)
    chart: charts.Chart | None = None
    table: charts.TableView | None = None
    link: Callable[[drill.Target], str | None] | None = None  # how a figure drills down
    export: str | None = None  # the metric's name in the reports API, for a table's CSV/XLSX download
    computed_at: datetime | None = None  # when the figures were computed (they may come from the cache)


@dataclass
class Dashboard:
    viewer: User
    personal: bool
    period: Period
    filters: ReportFilters
    panels: list[Panel]

    @property
    def computed_at(self) -> datetime | None:
        """When the oldest figure of the page was computed."""
        moments = [panel.computed_at for panel in self.panels if panel.computed_at is not None]
        return min(moments) if moments else None

    @property
    def period_label(self) -> str:
        first = formats.date_format(self.period.first, "DATE_FORMAT")
        if self.period.first == self.period.last:
            return first
        return _("%(first)s to %(last)s") % {
            "first": first,
            "last": formats.date_format(self.period.last, "DATE_FORMAT"),
        }


@dataclass(frozen=True)
class FilterChoices:
    """What the filter form lists: only the groups the viewer may see."""

    groups: list[tuple[int, str]]
    categories: list[tuple[int, str]]
    organisations: list[tuple[int, str]]


def filter_choices(viewer: User, *, personal: bool) -> FilterChoices:
    from palier.reports import permissions

    reach = permissions.report_groups(viewer, personal=personal)
    groups = [(g.pk, g.name) for g in people_selectors.support_groups() if reach is None or g.pk in reach]
    organisations = [(o.pk, o.name) for o in people_selectors.organisations_by_name()]
    return FilterChoices(groups, ticket_selectors.category_choices(), organisations)


# --- building --------------------------------------------------------------------------------------


def _date(raw: Any, name: str, errors: dict[str, list[str]]) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors[name] = [_("Enter a date such as 2026-05-31.")]
        return None


def _period(params: Mapping[str, Any], zone: ZoneInfo, errors: dict[str, list[str]]) -> Period | None:
    first, last = _date(params.get("since"), "since", errors), _date(params.get("until"), "until", errors)
    if errors:
        return None
    preset = str(params.get("period") or DEFAULT_PERIOD)
    try:
        return period_for(preset, zone=zone, today=timezone.now().astimezone(zone).date(), first=first, last=last)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return None


def _kpi_cards(result: object, link: Callable[[drill.Target], str | None]) -> list[KpiCard]:
    kpis = [result] if isinstance(result, Kpi) else cast(list[Kpi], result)
    cards = []
    for kpi in kpis:
        direction = kpi.direction
        good = {"up": "up", "down": "down"}.get(kpi.better)
        tone = (
            "neutral" if good is None or direction not in ("up", "down") else ("good" if direction == good else "bad")
        )
        cards.append(
            KpiCard(
                key=kpi.key,
                label=str(KPI_LABELS.get(kpi.key, kpi.key)),
                value=format_value(kpi.value, kpi.unit),
                previous=format_value(kpi.previous, kpi.unit),
                direction=direction,
                arrow=ARROWS[direction],
                tone=tone,
                url=link(drill.Target(key=kpi.key)),
            )
        )
    return cards


def table_view(
    table: Table, *, link: Callable[[drill.Target], str | None], units: Mapping[str, str]
) -> charts.TableView:
    """A metric's table with formatted cells, each linked to its tickets."""
    keys = [key for key, _label in table.columns]
    rows = []
    for row in table.rows:
        cells = []
        for key, value in zip(keys, row.cells, strict=False):
            text = (_("rising") if value else "") if key == "rising" else format_value(value, units.get(key, "count"))
            url = link(drill.Target(key=row.key, column=key)) if isinstance(value, int | float) else None
            cells.append(charts.Cell(text, url))
        rows.append(charts.RowView(row.label, cells, link(drill.Target(key=row.key))))
    return charts.TableView([label for _key, label in table.columns], rows)


def _render(panel: Panel, spec: PanelSpec, period: Period) -> None:
    """Turn the metric's result into cards, a chart or a table."""
    link = cast(Callable[[drill.Target], str | None], panel.link)
    units = spec.options.get("units", {})
    if spec.kind == "kpis":
        if "keys" in spec.options:  # only these figures of the metric
            kpis = [panel.result] if isinstance(panel.result, Kpi) else cast(list[Kpi], panel.result)
            panel.result = [kpi for kpi in kpis if kpi.key in spec.options["keys"]]
        panel.cards = _kpi_cards(panel.result, link)
    elif spec.kind in ("line", "stacked"):
        series = cast(list[Series], panel.result)
        panel.chart = charts.series_chart(
            series,
            title=panel.title,
            weekly=period.bucket == "week",
            link=lambda key, day: link(drill.Target(key=key, bucket=day)),
            stacked=spec.kind == "stacked",
        )
    else:
        table = cast(Table, panel.result)
        if "rows" in spec.options:  # the newest few; the download has them all
            table = Table(key=table.key, columns=table.columns, rows=table.rows[: spec.options["rows"]])
        panel.table = table_view(table, link=link, units=units)
        if spec.kind == "bars":
            column = spec.options.get("column")

            def bar_link(row: Row) -> str | None:
                return link(drill.Target(key=row.key, column=column))

            panel.chart = charts.bar_chart(
                table, title=panel.title, column=column, link=bar_link, table_view=panel.table
            )


def _cache_key(spec: PanelSpec, *, scope: Any, period: Period, extra: Mapping[str, Any]) -> str:
    """Who asks (the viewer: what they may see is theirs), what, over which days, in which language."""
    parts = (
        scope.viewer.pk,
        spec.path,
        sorted(extra.items()),
        repr(scope.filters),
        period.first.isoformat(),
        period.last.isoformat(),
        str(period.zone),
        get_language() or "",
    )
    return "reports:panel:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _figures(spec: PanelSpec, *, scope: Any, period: Period, extra: Mapping[str, Any]) -> tuple[object, datetime]:
    """The metric's result and when it was computed: kept ``PALIER_REPORTS_CACHE_SECONDS`` per
    viewer, panel, filters, period and language (a dashboard is read far more often than its
    figures change, and reloading it, or coming back to a filter, should not compute it again)."""
    seconds = settings.PALIER_REPORTS_CACHE_SECONDS
    key = _cache_key(spec, scope=scope, period=period, extra=extra) if seconds else ""
    if key and (hit := cache.get(key)) is not None:
        return cast(tuple[object, datetime], hit)
    function = metric(spec.path)
    if spec.path.startswith("knowledge."):
        result = function(viewer=scope.viewer, period=period, **extra)
    else:
        result = function(scope=scope, period=period, **extra)
    computed = (result, timezone.now())
    if key:
        cache.set(key, computed, seconds)
    return computed


def _panel(spec: PanelSpec, *, scope: Any, period: Period, ctx: drill.DrillContext) -> Panel:
    extra = {k: v for k, v in spec.options.items() if k not in ("column", "units", "rows", "keys")}
    key = "-".join([spec.path.replace(".", "-").replace("_", "-"), *map(str, extra.values())])
    by = extra.get("by")

    def link(target: drill.Target) -> str | None:
        return drill.queue_url(spec.path, ctx, target, by=by)

    panel = Panel(key=key, title=str(spec.title), kind=spec.kind, path=spec.path, link=link)
    if spec.kind in ("table", "bars"):  # the same table through /api/v1/reports/<name>?format=…
        name = spec.path.partition(".")[2]
        panel.export = f"cost-by-{by}" if name == "cost_by" else name
    try:
        panel.result, panel.computed_at = _figures(spec, scope=scope, period=period, extra=extra)
        _render(panel, spec, period)
    except Exception:  # one failing figure must not take the dashboard down
        logger.exception("dashboard panel %s failed", spec.path)
        panel.unavailable, panel.cards, panel.chart, panel.table = True, [], None, None
    return panel


def build_dashboard(*, viewer: User, params: Mapping[str, Any], zone: ZoneInfo, personal: bool) -> Dashboard:
    """Compute a dashboard for ``viewer`` from query parameters. Raises ``ValidationError`` with
    one message per field for a bad period or filter (a group out of reach reads like an unknown
    one), and ``PermissionDenied`` when the viewer may not see this dashboard."""
    errors: dict[str, list[str]] = {}
    period = _period(params, zone, errors)
    filters: ReportFilters | None = None
    try:
        filters = parse_filters(params, personal=personal)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    scope = None
    if filters is not None:
        try:
            scope = scope_for(viewer, filters)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors or period is None or filters is None or scope is None:
        raise ValidationError(errors)
    ctx = drill.DrillContext(filters=filters, group_ids=scope.group_ids, period=period, now=timezone.now())
    specs = PERSONAL_PANELS if personal else TEAM_PANELS
    panels = [_panel(spec, scope=scope, period=period, ctx=ctx) for spec in specs]
    return Dashboard(viewer=viewer, personal=personal, period=period, filters=filters, panels=panels)
