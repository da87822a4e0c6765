"""Scheduled reports, the read side: when a subscription runs, which dates it covers, what its
email says and the file it attaches. The writes (subscribe, change, unsubscribe, the periodic
run) are in ``services.py``.

Every figure comes through one resolver, ``metric(path)`` (``palier.reports.metrics.<path>``), so
a summary shows exactly what the dashboards and the API show for the same filters and period.

- A **summary** (managers and administrators) is emailed to its owner on Monday at 07:00 in their
  time zone (weekly, covering Monday to Sunday of the week before) or on the 1st at 07:00
  (monthly, covering the month before), in their language: the main KPIs of the scope, each with
  the previous period's value and the direction, and a link to the dashboard with the same filters.
- An **export** (administrators) attaches one report table as CSV or XLSX to an email sent to a
  list of addresses, on the same schedule. The writer here is deliberately minimal (small
  tables, in memory); ticket lists and long exports have their own streamed exporter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palier.people import permissions as people_permissions
from palier.people.models import User
from palier.reports import exports
from palier.reports.filters import ReportFilters, parse_filters, scope_for
from palier.reports.models import ReportSubscription
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Series, Table

Frequency = ReportSubscription.Frequency
SEND_AT = time(7, 0)  # local time of the owner
MAX_RECIPIENTS = 20
DASHBOARD_PATH = "/agent/reports/"  # the team dashboard (reports:team), with the same query parameters


def metric(path: str) -> Callable[..., Any]:
    """The metric function ``palier.reports.metrics.<path>`` (``"flow.flow_kpis"``)."""
    return import_string(f"palier.reports.metrics.{path}")  # type: ignore[no-any-return]


# --- when -----------------------------------------------------------------------------------------------


def zone_of(user: User) -> ZoneInfo:
    """The owner's time zone: their working time zone, else the desk's."""
    try:
        return ZoneInfo(user.work_time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _step(day: date, frequency: str) -> date:
    """The next sending day after ``day`` (a Monday, or a 1st)."""
    if frequency == Frequency.WEEKLY:
        return day + timedelta(days=7)
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def next_slot(frequency: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first sending time strictly after ``after``, in UTC: Monday (weekly) or the 1st
    (monthly) at 07:00 in ``zone``."""
    local = after.astimezone(zone).date()
    day = local - timedelta(days=local.weekday()) if frequency == Frequency.WEEKLY else local.replace(day=1)
    moment = datetime.combine(day, SEND_AT, tzinfo=zone)
    while moment <= after:
        day = _step(day, frequency)
        moment = datetime.combine(day, SEND_AT, tzinfo=zone)
    return moment.astimezone(UTC)


def period_of(frequency: str, zone: ZoneInfo, slot: datetime) -> Period:
    """The dates a sending covers: the whole week (Monday to Sunday) or month before its day."""
    day = slot.astimezone(zone).date()
    if frequency == Frequency.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return Period(first=monday - timedelta(days=7), last=monday - timedelta(days=1), zone=zone)
    last = day.replace(day=1) - timedelta(days=1)
    return Period(first=last.replace(day=1), last=last, zone=zone)


def period_text(period: Period) -> str:
    """ "30 November 2026 – 6 December 2026", in the active language."""
    return f"{date_format(period.first, 'DATE_FORMAT')} – {date_format(period.last, 'DATE_FORMAT')}"


# --- what: filters -------------------------------------------------------------------------------------


def stored_filters(filters: ReportFilters) -> dict[str, Any]:
    """The filters as the dashboards' query parameters (only those given), for the JSON field."""
    values: dict[str, Any] = {
        "group": filters.group, "level": filters.level, "category": filters.category,
        "organisation": filters.organisation, "channel": filters.channel, "kind": filters.kind,
    }  # fmt: skip
    stored = {name: value for name, value in values.items() if value not in (None, "")}
    if filters.priority:
        stored["priority"] = list(filters.priority)
    return stored


def dashboard_url(filters: Mapping[str, Any], period: Period) -> str:
    """The team dashboard with the subscription's filters and the period the email covers."""
    from palier.notifications.email import base_url

    query = {**filters, "period": "custom", "since": period.first.isoformat(), "until": period.last.isoformat()}
    return f"{base_url()}{DASHBOARD_PATH}?{urlencode(query, doseq=True)}"


# --- what: the summary ---------------------------------------------------------------------------------

SUMMARY_SECTIONS: tuple[tuple[str, Promise], ...] = (
    ("flow.flow_kpis", gettext_lazy("Tickets")),
    ("flow.backlog_kpis", gettext_lazy("Backlog")),
    ("sla.sla_kpis", gettext_lazy("Service levels")),
    ("satisfaction.csat_kpis", gettext_lazy("Satisfaction")),
)
KPI_LABELS: dict[str, Promise] = {
    "created": gettext_lazy("Tickets created"),
    "resolved": gettext_lazy("Tickets resolved"),
    "resolution_rate": gettext_lazy("Resolution rate (resolved ÷ created)"),
    "resolved_share": gettext_lazy("Share of the period's tickets resolved"),
    "fcr_rate": gettext_lazy("First-contact resolution"),
    "reopen_rate": gettext_lazy("Reopen rate"),
    "escalation_rate": gettext_lazy("Escalation rate"),
    "open": gettext_lazy("Open tickets"),
    "unassigned": gettext_lazy("Unassigned tickets"),
    "pending_vendor": gettext_lazy("Waiting on a vendor"),
    "response_compliance": gettext_lazy("First responses within the SLA"),
    "resolution_compliance": gettext_lazy("Resolutions within the SLA"),
    "breaches": gettext_lazy("SLA breaches"),
    "csat_average": gettext_lazy("Average satisfaction"),
    "csat_response_rate": gettext_lazy("Survey response rate"),
}
ARROWS = {"up": "↑", "down": "↓", "flat": "→", "none": "·"}


@dataclass(frozen=True)
class KpiLine:
    """One KPI as the email shows it: formatted in the reader's language, with its direction."""

    key: str
    label: str
    value: str
    previous: str
    arrow: str
    tone: str  # "good", "bad" or "neutral": the colour of the arrow


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[KpiLine] = field(default_factory=list)


def format_value(value: float | None, unit: str) -> str:
    """A KPI value in the active language: "12.5 %", "2 h 05", "4.20 / 5", "1,234"."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{number_format(value, 1)} %"
    if unit == "minutes":
        hours, minutes = divmod(round(value), 60)
        return f"{hours} h {minutes:02d}" if hours else f"{minutes} min"
    if unit == "score":
        return f"{number_format(value, 2)} / 5"
    if unit == "money":
        return number_format(value, 2, force_grouping=True)
    return number_format(round(value), 0, force_grouping=True)


def _tone(kpi: Kpi) -> str:
    direction = kpi.direction
    if direction not in ("up", "down") or kpi.better == "none":
        return "neutral"
    return "good" if direction == kpi.better else "bad"


def kpi_line(kpi: Kpi) -> KpiLine:
    label = str(KPI_LABELS.get(kpi.key, kpi.key))
    return KpiLine(
        key=kpi.key, label=label, value=format_value(kpi.value, kpi.unit),
        previous=format_value(kpi.previous, kpi.unit), arrow=ARROWS[kpi.direction], tone=_tone(kpi),
    )  # fmt: skip


def summary_sections(*, owner: User, filters: ReportFilters, period: Period) -> list[Section]:
    """The summary's KPIs for the owner's scope, by section, formatted in the active language.
    Raises what the scope or a metric raises (the run logs it and tries again next time)."""
    scope = scope_for(owner, filters)
    sections = []
    for path, title in SUMMARY_SECTIONS:
        kpis = metric(path)(scope=scope, period=period)
        sections.append(Section(title=str(title), lines=[kpi_line(kpi) for kpi in kpis]))
    return sections


# --- what: exports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """A report an administrator can schedule: the metric, its options, and whether it takes the
    viewer instead of a scope (knowledge-base figures are not about tickets)."""

    path: str
    label: Promise
    options: dict[str, str] = field(default_factory=dict)
    by_viewer: bool = False


EXPORTS: dict[str, Export] = {
    "flow_kpis": Export("flow.flow_kpis", gettext_lazy("Ticket flow: key figures")),
    "backlog": Export("flow.backlog", gettext_lazy("Backlog by status and age")),
    "created_resolved": Export("flow.created_resolved", gettext_lazy("Created and resolved")),
    "resolution_by_level": Export("flow.resolution_by_level", gettext_lazy("Resolution by level")),
    "channel_mix": Export("flow.channel_mix", gettext_lazy("Channel mix")),
    "top_categories": Export("flow.top_categories", gettext_lazy("Top categories")),
    "agent_workload": Export("flow.agent_workload", gettext_lazy("Agent workload")),
    "group_workload": Export("flow.group_workload", gettext_lazy("Group workload")),
    "sla_compliance": Export("sla.sla_compliance", gettext_lazy("SLA compliance")),
    "sla_breaches": Export("sla.sla_breaches", gettext_lazy("SLA breaches")),
    "time_kpis": Export("sla.time_kpis", gettext_lazy("Response and resolution times")),
    "csat_distribution": Export("satisfaction.csat_distribution", gettext_lazy("Satisfaction scores")),
    "csat_comments": Export("satisfaction.csat_comments", gettext_lazy("Satisfaction comments")),
    "csat_by_group": Export("satisfaction.csat_by_group", gettext_lazy("Satisfaction by group")),
    "csat_by_agent": Export("satisfaction.csat_by_agent", gettext_lazy("Satisfaction by agent")),
    "top_articles": Export("knowledge.top_articles", gettext_lazy("Most used articles"), by_viewer=True),
    "failed_searches": Export("knowledge.failed_searches", gettext_lazy("Searches without a result"), by_viewer=True),
    "cost_kpis": Export("cost.cost_kpis", gettext_lazy("Cost of support: key figures")),
    "cost_by_category": Export("cost.cost_by", gettext_lazy("Cost by category"), {"by": "category"}),
    "cost_by_organisation": Export("cost.cost_by", gettext_lazy("Cost by organisation"), {"by": "organisation"}),
    "cost_by_group": Export("cost.cost_by", gettext_lazy("Cost by group"), {"by": "group"}),
    "cost_by_level": Export("cost.cost_by", gettext_lazy("Cost by level"), {"by": "level"}),
    "cost_by_month": Export("cost.cost_by", gettext_lazy("Cost by month"), {"by": "month"}),
}


def export_choices() -> list[tuple[str, str]]:
    return [(key, str(export.label)) for key, export in EXPORTS.items()]


def as_table(key: str, result: object) -> Table:
    """Any metric result as a table: a Table as is, KPIs as rows (value, previous), series as one
    row per bucket and one column per series."""
    if isinstance(result, Table):
        return result
    if isinstance(result, Kpi):
        result = [result]
    items = list(result) if isinstance(result, list) else []
    if items and all(isinstance(item, Kpi) for item in items):
        columns = [("value", _("Value")), ("previous", _("Previous period"))]
        return Table(
            key, columns, [Row(k.key, str(KPI_LABELS.get(k.key, k.key)), [k.value, k.previous]) for k in items]
        )
    if items and all(isinstance(item, Series) for item in items):
        days = sorted({point.day for series in items for point in series.points})
        values = {(s.key, p.day): p.value for s in items for p in s.points}
        rows = [
            Row(d.isoformat(), date_format(d, "SHORT_DATE_FORMAT"), [values.get((s.key, d)) for s in items])
            for d in days
        ]
        return Table(key, [(s.key, s.label) for s in items], rows)
    return Table(key, [])


def export_table(*, owner: User, key: str, filters: ReportFilters, period: Period) -> Table:
    """The report table an export attaches, computed for the owner (labels in the active language)."""
    export = EXPORTS[key]
    function = metric(export.path)
    if export.by_viewer:
        result = function(viewer=owner, period=period, **export.options)
    else:
        result = function(scope=scope_for(owner, filters), period=period, **export.options)
    return as_table(key, result)


def export_file(table: Table, *, fmt: str, key: str, period: Period) -> tuple[str, bytes, str]:
    """(file name, content, content type) of the attachment."""
    name = f"palier-{key.replace('_', '-')}-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
    # the one table writer of the reports (exports.py): text cells that could run as formulas neutralised
    return name, exports.export_table(table, fmt), exports.CONTENT_TYPES[fmt]


# --- checks on what is stored ----------------------------------------------------------------------------


def clean_filters(owner: User, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboards' filters, checked for the owner: unknown values and groups out of their reach
    are refused per field (``ValidationError``), as on the dashboards."""
    filters = parse_filters(dict(raw))
    scope_for(owner, filters)
    return stored_filters(filters)


def clean_recipients(raw: str | list[str]) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or lines: each checked, lower-cased, kept
    once, at most ``MAX_RECIPIENTS``."""
    from django.core.validators import validate_email

    items = raw.replace(";", ",").replace("\n", ",").split(",") if isinstance(raw, str) else list(raw)
    addresses: list[str] = []
    for item in (part.strip().lower() for part in items):
        if not item or item in addresses:
            continue
        try:
            validate_email(item)
        except ValidationError:
            raise ValidationError(
                {"recipients": _("“%(value)s” is not an email address.") % {"value": item[:80]}}
            ) from None
        addresses.append(item)
    if not addresses:
        raise ValidationError({"recipients": _("Give at least one email address.")})
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": _("At most %(n)d addresses.") % {"n": MAX_RECIPIENTS}})
    return addresses


# --- reads ---------------------------------------------------------------------------------------------


def subscriptions_visible_to(user: User) -> QuerySet[ReportSubscription]:
    """A manager's own subscriptions; an administrator's own first, then everyone else's."""
    qs = ReportSubscription.objects.select_related("owner")
    if people_permissions.is_admin(user):
        return qs.order_by("kind", "pk")
    return qs.filter(owner_id=user.pk).order_by("kind", "pk")


def get_subscription_for(user: User, subscription_id: int) -> ReportSubscription:
    """One subscription its owner or an administrator may change (404 for anyone else)."""
    found = subscriptions_visible_to(user).filter(pk=subscription_id).first()
    if found is None:
        raise Http404("subscription")
    return found


def due_subscriptions(now: datetime, *, limit: int) -> list[ReportSubscription]:
    """Active subscriptions whose slot has come, oldest slot first (indexed)."""
    return list(
        ReportSubscription.objects.filter(is_active=True, next_run_at__lte=now)
        .select_related("owner")
        .order_by("next_run_at", "pk")[:limit]
    )


# --- reads for the pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterChoices:
    """What a viewer may filter a subscription on: their groups, and the categories and
    organisations (id, name)."""

    groups: list[tuple[int, str]]
    categories: list[tuple[int, str]]
    organisations: list[tuple[int, str]]


def filter_choices(viewer: User) -> FilterChoices:
    from palier.people.models import Organisation, SupportGroup
    from palier.reports.permissions import report_groups
    from palier.tickets.categories import category_choices

    ids = report_groups(viewer, personal=False)
    groups = SupportGroup.objects.order_by("name")
    if ids is not None:
        groups = groups.filter(pk__in=ids)
    organisations = Organisation.objects.order_by("name").values_list("pk", "name")
    return FilterChoices(list(groups.values_list("pk", "name")), category_choices(), list(organisations))


@dataclass(frozen=True)
class SubscriptionRow:
    """One subscription as the "My subscriptions" page lists it."""

    pk: int
    kind: str
    kind_label: str
    frequency_label: str
    scope: str  # the filters in words
    report: str  # exports: the report and its format
    recipients: str
    owner: str
    mine: bool
    is_active: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    problem: str


def describe_filters(stored: Mapping[str, Any], choices: FilterChoices) -> str:
    """The filters in words ("Group: Service desk · Channel: Email"), or "All your groups"."""
    from palier.tickets.models import Ticket

    names: dict[str, dict[Any, Any]] = {
        "group": dict(choices.groups), "category": dict(choices.categories),
        "organisation": dict(choices.organisations), "channel": dict(Ticket.Channel.choices),
        "kind": dict(Ticket.Kind.choices),
    }  # fmt: skip
    labels = {
        "group": _("Group"), "level": _("Level"), "category": _("Category"), "organisation": _("Organisation"),
        "channel": _("Channel"), "kind": _("Type"), "priority": _("Priority"),
    }  # fmt: skip
    parts = []
    for name, label in labels.items():
        value = stored.get(name)
        if value in (None, "", []):
            continue
        if name == "priority":
            text = ", ".join(f"P{p}" for p in value)
        elif name == "level":
            text = f"L{value}"
        else:
            text = str(names[name].get(value, value))
        parts.append(f"{label}: {text}")
    return " · ".join(parts) or _("All your groups")


def subscription_rows(viewer: User) -> list[SubscriptionRow]:
    """The viewer's subscriptions (every one for administrators), in words. A constant number of
    queries, whatever the number of rows."""
    choices = filter_choices(viewer)
    rows = []
    for row in subscriptions_visible_to(viewer):
        export = EXPORTS.get(row.metric)
        report = f"{export.label} ({row.format.upper()})" if export is not None else ""
        rows.append(SubscriptionRow(
            pk=row.pk, kind=row.kind, kind_label=str(row.get_kind_display()),
            frequency_label=str(row.get_frequency_display()), scope=describe_filters(row.filters, choices),
            report=report, recipients=", ".join(row.recipients), owner=row.owner.display_name,
            mine=row.owner_id == viewer.pk, is_active=row.is_active, next_run_at=row.next_run_at,
            last_run_at=row.last_run_at, problem=row.problem,
        ))  # fmt: skip
    return rows
