"""What a report looks at: the viewer's scope and the filters, parsed and checked once.

``parse_filters`` turns query parameters (page, API and export alike) into ``ReportFilters`` or
raises ``ValidationError`` with one message per field; ``scope_for`` turns them into the tickets
the figures count. Who sees what (``permissions.py``): an administrator sees every group; a
manager the groups they manage or belong to; any agent their own personal figures. A group,
organisation or category the viewer may not see is refused with the same message as one that
does not exist, so nothing leaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from palier.people.models import User
from palier.reports import permissions
from palier.tickets.models import Ticket
from palier.tickets.selectors import tickets_visible_to


@dataclass(frozen=True)
class ReportFilters:
    group: int | None = None
    level: int | None = None  # 1-5: the groups of that support level
    category: int | None = None
    organisation: int | None = None
    channel: str | None = None
    kind: str | None = None
    priority: list[int] = field(default_factory=list)
    personal: bool = False  # an agent's own figures (tickets assigned to them)


@dataclass(frozen=True)
class Scope:
    """The tickets a report counts (visible to ``viewer``, filters applied, every date)."""

    viewer: User
    filters: ReportFilters
    tickets: QuerySet[Ticket]
    group_ids: list[int] | None  # the groups in scope; None: every group (administrators)
    # reads several metrics of one page share (the cost family's time entries and escalations):
    # a scope lives for one request, so they are never stale
    memo: dict[object, Any] = field(default_factory=dict, compare=False, repr=False)


def _int(raw: Any, field_name: str, errors: dict[str, str], *, low: int = 1, high: int = 2**63 - 1) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        errors[field_name] = _("Unknown value “%(value)s”.") % {"value": str(raw)[:40]}
        return None
    return value


def parse_filters(params: Mapping[str, Any], *, personal: bool = False) -> ReportFilters:
    """Read the filters from query parameters (a QueryDict or a dict). Unknown values are refused."""
    errors: dict[str, str] = {}
    channel = params.get("channel") or None
    if channel is not None and channel not in Ticket.Channel.values:
        errors["channel"] = _("Unknown channel “%(value)s”.") % {"value": str(channel)[:40]}
    kind = params.get("kind") or None
    if kind is not None and kind not in Ticket.Kind.values:
        errors["kind"] = _("Unknown type “%(value)s”.") % {"value": str(kind)[:40]}
    raw_priorities = params.getlist("priority") if hasattr(params, "getlist") else params.get("priority") or []
    if isinstance(raw_priorities, str | int):
        raw_priorities = [raw_priorities]
    priorities = [p for p in (_int(r, "priority", errors, high=5) for r in raw_priorities) if p is not None]
    filters = ReportFilters(
        group=_int(params.get("group"), "group", errors),
        level=_int(params.get("level"), "level", errors, high=5),
        category=_int(params.get("category"), "category", errors),
        organisation=_int(params.get("organisation"), "organisation", errors),
        channel=channel,
        kind=kind,
        priority=sorted(set(priorities)),
        personal=personal,
    )
    if errors:
        raise ValidationError(errors)
    return filters


def scope_for(viewer: User, filters: ReportFilters) -> Scope:
    """The tickets the figures count. Raises ``PermissionDenied`` when the viewer may not see this
    dashboard at all, ``ValidationError`` for a group/organisation/category out of their reach."""
    group_ids = permissions.report_groups(viewer, personal=filters.personal)
    qs = tickets_visible_to(viewer)
    if filters.personal:
        qs = qs.filter(assignee_id=viewer.pk)
    elif group_ids is not None:
        qs = qs.filter(group_id__in=group_ids)
    errors: dict[str, str] = {}
    if filters.group is not None:
        if group_ids is not None and not filters.personal and filters.group not in group_ids:
            errors["group"] = _("Unknown value “%(value)s”.") % {"value": filters.group}
        qs = qs.filter(group_id=filters.group)
    if filters.level is not None:
        qs = qs.filter(group__level=filters.level)
    if filters.category is not None:
        qs = qs.filter(category_id=filters.category)
    if filters.organisation is not None:
        qs = qs.filter(organisation_id=filters.organisation)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.priority:
        qs = qs.filter(priority__in=filters.priority)
    if errors:
        raise ValidationError(errors)
    return Scope(viewer=viewer, filters=filters, tickets=qs, group_ids=group_ids)


def today_in(zone_name: str) -> date:
    """Today's date in a time zone (a report's "today" is the viewer's)."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    return timezone.now().astimezone(ZoneInfo(zone_name)).date()
