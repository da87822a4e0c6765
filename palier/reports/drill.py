"""Drill-down: the agent queue behind a figure, with the dashboard's filters applied.

``queue_url`` turns a panel's metric (its ``"<module>.<function>"`` path), a row key, a column,
a series or a bucket into the queue's URL (``agent:ticket-list`` and its query string). The
dashboard's scope becomes queue filters: the chosen group, or every group of the viewer's reach
(``groups``), the level, category, organisation, channel, type and priorities; a personal
dashboard adds "assigned to me". The period becomes a creation range (``created_after`` /
``created_before``) for figures about the tickets created in it, a resolution range
(``resolved_after`` / ``resolved_before``) for figures about the tickets resolved in it, and an
age (a creation range counted back from now) for the backlog's age buckets. Times are ISO 8601
with their offset, so the queue shows the same days whatever its own time zone.

A figure the queue cannot show (a self-service resolution, a knowledge-base article, a score)
has no link: ``queue_url`` returns None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from palier.reports.filters import ReportFilters
from palier.reports.periods import Period
from palier.tickets.models import Ticket

Params = list[tuple[str, str]]

# backlog age bucket -> (at least, less than) days old
AGE_BUCKETS: dict[str, tuple[int | None, int | None]] = {
    "lt1d": (None, 1),
    "1_3d": (1, 3),
    "3_7d": (3, 7),
    "7_30d": (7, 30),
    "gt30d": (30, None),
}
LEVEL_KEYS: dict[str, list[int]] = {"L1": [1], "L2": [2], "L3": [3], "vendor": [4, 5]}


@dataclass(frozen=True)
class DrillContext:
    """What every link of one dashboard shares: its filters, reach, period and moment."""

    filters: ReportFilters
    group_ids: list[int] | None  # the viewer's groups (None: every group)
    period: Period
    now: datetime


@dataclass(frozen=True)
class Target:
    """One figure to link: a row or series ``key``, a table ``column``, a ``bucket`` (first day)."""

    key: str | None = None
    column: str | None = None
    bucket: date | None = None


def scope_params(ctx: DrillContext) -> Params:
    """The dashboard's filters as queue parameters."""
    f = ctx.filters
    params: Params = []
    if f.personal:
        params.append(("assignee", "me"))
    if f.group is not None:
        params.append(("group", str(f.group)))
    elif ctx.group_ids is not None and not f.personal:
        params += [("groups", str(pk)) for pk in ctx.group_ids]
    if f.level is not None:
        params.append(("level", str(f.level)))
    optional = {"category": f.category, "organisation": f.organisation, "channel": f.channel, "kind": f.kind}
    params += [(name, str(value)) for name, value in optional.items() if value not in (None, "")]
    params += [("priority", str(p)) for p in f.priority]
    return params


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _range(ctx: DrillContext, bucket: date | None) -> tuple[datetime, datetime]:
    """The whole period, or one of its buckets (a day or a week) clipped to the period."""
    period = ctx.period
    if bucket is None:
        return period.start, period.end
    step = 7 if period.bucket == "week" else 1
    first = max(bucket, period.first)
    after = min(bucket + timedelta(days=step), period.last + timedelta(days=1))
    return (
        datetime.combine(first, time.min, tzinfo=period.zone),
        datetime.combine(after, time.min, tzinfo=period.zone),
    )


def _created(ctx: DrillContext, t: Target) -> Params:
    start, end = _range(ctx, t.bucket)
    return [("status", "all"), ("created_after", _iso(start)), ("created_before", _iso(end))]


def _resolved(ctx: DrillContext, t: Target) -> Params:
    start, end = _range(ctx, t.bucket)
    return [("status", "all"), ("resolved_after", _iso(start)), ("resolved_before", _iso(end))]


def _age(ctx: DrillContext, bucket: str | None) -> Params | None:
    if bucket in (None, "total"):
        return []
    if bucket not in AGE_BUCKETS:
        return None
    older, younger = AGE_BUCKETS[bucket]
    params: Params = []
    if younger is not None:
        params.append(("created_after", _iso(ctx.now - timedelta(days=younger))))
    if older is not None:
        params.append(("created_before", _iso(ctx.now - timedelta(days=older))))
    return params


def _backlog(ctx: DrillContext, t: Target) -> Params | None:
    age = _age(ctx, t.column)
    if age is None or (t.key is not None and t.key not in Ticket.Status.values):
        return None
    return ([("status", t.key)] if t.key else []) + age


def _backlog_kpis(ctx: DrillContext, t: Target) -> Params | None:
    rules: dict[str, Params] = {
        "open": [],
        "unassigned": [("assignee", "none")],
        "pending_vendor": [("status", str(Ticket.Status.PENDING_VENDOR))],
    }
    return rules.get(t.key or "")


def _flow_kpis(ctx: DrillContext, t: Target) -> Params | None:
    if t.key in ("created", "resolved_share", "fcr_rate", "reopen_rate", "escalation_rate"):
        return _created(ctx, t)
    if t.key in ("resolved", "resolution_rate"):
        return _resolved(ctx, t)
    return None


def _created_resolved(ctx: DrillContext, t: Target) -> Params | None:
    return _resolved(ctx, t) if t.key == "resolved" else _created(ctx, t)


def _by_level(ctx: DrillContext, t: Target) -> Params | None:
    levels = LEVEL_KEYS.get(t.key or "")
    if levels is None:
        return None  # self-service: no agent ticket to list
    if ctx.filters.level is not None and ctx.filters.level not in levels:
        return None
    return _resolved(ctx, t) + [("level", str(level)) for level in levels if ctx.filters.level is None]


def _channel(ctx: DrillContext, t: Target) -> Params | None:
    if t.key not in Ticket.Channel.values or ctx.filters.channel not in (None, t.key):
        return None
    return _created(ctx, t) + ([("channel", str(t.key))] if ctx.filters.channel is None else [])


def _id_filter(
    name: str, when: Callable[[DrillContext, Target], Params]
) -> Callable[[DrillContext, Target], Params | None]:
    """Rows keyed by an id (a category, a group, an agent) narrow the queue to that id."""

    def params(ctx: DrillContext, t: Target) -> Params | None:
        if t.key is None:
            return when(ctx, t)
        if not t.key.isdigit():
            return None
        return [(n, v) for n, v in when(ctx, t) if n != name] + [(name, t.key)]

    return params


def _workload(ctx: DrillContext, t: Target) -> Params:
    """A workload column: open tickets now, or those created or resolved in the period."""
    if t.column == "resolved":
        return _resolved(ctx, t)
    if t.column == "created":
        return _created(ctx, t)
    return [("assignee", "none")] if t.column == "unassigned" else []


def _cost(ctx: DrillContext, t: Target) -> Params | None:
    return _created(ctx, t)


RULES: dict[str, Callable[[DrillContext, Target], Params | None]] = {
    "flow.backlog_kpis": _backlog_kpis,
    "flow.backlog": _backlog,
    "flow.flow_kpis": _flow_kpis,
    "flow.created_resolved": _created_resolved,
    "flow.resolution_by_level": _by_level,
    "flow.channel_mix": _channel,
    "flow.top_categories": _id_filter("category", _created),
    "flow.agent_workload": _id_filter("assignee", _workload),
    "flow.group_workload": _id_filter("group", _workload),
    "sla.sla_kpis": _resolved,
    "sla.sla_compliance": _resolved,
    "sla.time_kpis": _resolved,
    "satisfaction.csat_kpis": _resolved,
    "satisfaction.csat_distribution": _resolved,
    "satisfaction.csat_by_group": _id_filter("group", _resolved),
    "satisfaction.csat_by_agent": _id_filter("assignee", _resolved),
    "cost.cost_kpis": _cost,
}
# tables whose rows are tickets: a row opens the ticket itself
TICKET_ROWS = frozenset({"sla.sla_breaches", "satisfaction.csat_comments"})
# tables whose rows are other records: a row opens the record's page (when the pages are mounted)
RECORD_ROWS = {"changes.failed_changes": "changes:detail"}
COST_BY = {"category": "category", "organisation": "organisation", "group": "group"}


def _cost_by(by: str) -> Callable[[DrillContext, Target], Params | None]:
    if by in COST_BY:
        return _id_filter(COST_BY[by], _created)
    if by == "level":
        return lambda ctx, t: _by_level(ctx, Target(key=f"L{t.key}" if t.key in ("1", "2", "3") else t.key))
    return lambda ctx, t: _created(ctx, t) if t.key is None else None


def queue_url(path: str, ctx: DrillContext, target: Target, *, by: str | None = None) -> str | None:
    """The queue URL behind one figure of the panel computed by ``path``, or None (no ticket list
    shows it). ``by`` is the breakdown of ``cost.cost_by``."""
    if path in TICKET_ROWS:
        key = target.key or ""
        return reverse("agent:ticket-detail", args=[int(key)]) if key.isdigit() else None
    if path in RECORD_ROWS:
        key = target.key or ""
        try:
            return reverse(RECORD_ROWS[path], args=[int(key)]) if key.isdigit() and not target.column else None
        except NoReverseMatch:
            return None
    rule = _cost_by(by or "") if path == "cost.cost_by" else RULES.get(path)
    if rule is None or (ctx.group_ids == [] and not ctx.filters.personal):  # no group: no ticket
        return None
    params = rule(ctx, target)
    if params is None:
        return None
    return f"{reverse('agent:ticket-list')}?{urlencode(scope_params(ctx) + params)}"
