"""The change calendar (docs/changes.md, "Calendar and conflicts"): month, week and list views of
the planned changes with their conflicts and the freeze windows; the iCalendar feeds; the
administration of freeze windows and of the services' maintenance windows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.change_calendar import CalendarFilterForm, FreezeForm, MaintenanceWindowForm
from palier.agent.views._admin import form_page, save_form
from palier.changes import calendar_selectors as selectors
from palier.changes import conflicts, feeds
from palier.changes.calendar_selectors import Filters
from palier.changes.models import Change, FreezeWindow, Risk
from palier.changes.services import feeds as feed_services
from palier.changes.services import freezes as freeze_services
from palier.lib.errors import DomainError, NotFound
from palier.lib.web import admin_required, agent_required
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest

DAY_CHIPS = 6  # chips shown in a month's day; the others behind "+ n more"
WEEK_DAY_CHIPS = 40
CONFLICTS_LISTED = 50
MAX_LIST_DAYS = 366
MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Chip:
    change: Change | selectors.Planned
    url: str
    conflicts: list[conflicts.Conflict]
    starts: datetime
    ends: datetime
    # the translated words of the chips, once per page: {"conflict": …, "risk": {"low": "risk Low", …}}
    texts: dict[str, Any] = field(default_factory=dict)

    @property
    def window(self) -> str:
        same_day = self.starts.date() == self.ends.date()
        return (
            f"{self.starts:%Y-%m-%d %H:%M} – {self.ends:%H:%M}"
            if same_day
            else f"{self.starts:%Y-%m-%d %H:%M} – {self.ends:%Y-%m-%d %H:%M}"
        )

    @property
    def risk_class(self) -> str:
        return f"cal-risk-{self.change.risk}"

    @property
    def html(self) -> SafeString:
        """The chip (built here, not by a template include: a month holds hundreds)."""
        change = self.change
        texts = self.texts or chip_texts()
        risk = texts["risk"].get(change.risk, change.risk)
        title = f"{change.reference} {change.title} · {self.window} · {risk}"
        classes = f"cal-chip {self.risk_class}" + (" cal-conflict" if self.conflicts else "")
        badge = (
            format_html(
                '<span class="cal-conflict-badge" aria-hidden="true">⚠ </span><span class="visually-hidden">{} </span>',
                texts["conflict"],
            )
            if self.conflicts
            else ""
        )
        inner = format_html(
            '{}<strong>{}</strong> {} {}<span class="visually-hidden">, {}</span>',
            badge,
            change.reference,
            f"{self.starts:%H:%M}",
            change.title,
            risk,
        )
        if self.url:
            return format_html(
                '<a href="{}" class="{}" title="{}" data-change="{}">{}</a>', self.url, classes, title, change.pk, inner
            )
        return format_html('<span class="{}" title="{}" data-change="{}">{}</span>', classes, title, change.pk, inner)


@dataclass
class Day:
    day: date
    in_month: bool = True
    today: bool = False
    chips: list[Chip] = field(default_factory=list)
    more: int = 0
    freezes: list[FreezeWindow] = field(default_factory=list)


def chip_texts() -> dict[str, Any]:
    return {
        "conflict": _("Conflict:"),
        "risk": {value: _("risk %(risk)s") % {"risk": label} for value, label in Risk.choices},
    }


def viewer_zone(user: Any) -> ZoneInfo:
    name = getattr(user, "work_time_zone", "") or ""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    current = timezone.get_current_timezone()
    return current if isinstance(current, ZoneInfo) else ZoneInfo(str(current))


def change_url_maker() -> Any:
    """The change page's address for a change id (the ``changes:`` pages), "" while they are missing."""
    try:
        sample = reverse("changes:detail", args=[987654321])
    except NoReverseMatch:
        return lambda pk: ""
    return lambda pk: sample.replace("987654321", str(pk))


def _filters(request: AuthedRequest) -> tuple[CalendarFilterForm, Filters]:
    form = CalendarFilterForm(
        request.GET if any(k in request.GET for k in ("service", "asset", "group", "risk")) else None,
        services=selectors.services(),
        groups=selectors.groups(),
    )
    if not form.is_bound:
        return form, Filters()
    if not form.is_valid():
        return form, Filters(asset_id=-1)
    data = form.cleaned_data
    asset_id = None
    if data.get("asset"):
        asset = selectors.visible_asset_by_tag(request.user, data["asset"])
        if asset is None:
            form.add_error("asset", _("No asset you may see has this tag."))
            asset_id = -1
        else:
            asset_id = asset.pk
    return form, Filters(
        service_id=data.get("service"), asset_id=asset_id, group_id=data.get("group"), risk=data["risk"] or ""
    )


def _chips(
    request: AuthedRequest,
    changes: Sequence[Change | selectors.Planned],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    *,
    only_these: bool = False,
) -> tuple[list[Chip], list[tuple[Chip, conflicts.Conflict]]]:
    """The changes as chips with their conflicts (one detection for the period, or for these
    changes only), and the conflicts to list under the calendar."""
    windows = {c.pk: (c.planned_start, c.planned_end, c.kind) for c in changes if c.planned_start and c.planned_end}
    found = (
        conflicts.detect(start, end, windows=windows, change_ids=list(windows) if only_these else None)
        if windows
        else {}
    )
    shown = {c.pk for c in changes}
    # asset names only for the assets the viewer may see
    named = {c.asset_id for pk in shown for c in found.get(pk, []) if c.asset_id}
    visible = selectors.visible_asset_ids(request.user, named)
    restricted = _("a restricted item")
    link = change_url_maker()
    texts = chip_texts()
    chips: list[Chip] = []
    listed: list[tuple[Chip, conflicts.Conflict]] = []
    for change in changes:
        mine = [
            c
            if c.asset_id is None or c.asset_id in visible
            else replace(c, asset_label=restricted, service_label=restricted)
            for c in found.get(change.pk, [])
        ]
        assert change.planned_start is not None and change.planned_end is not None
        chip = Chip(
            change,
            link(change.pk),
            mine,
            change.planned_start.astimezone(zone),
            change.planned_end.astimezone(zone),
            texts,
        )
        chips.append(chip)
        for conflict in mine:
            if len(listed) < CONFLICTS_LISTED:
                listed.append((chip, conflict))
    return chips, listed


def _days(
    first: date, last: date, chips: list[Chip], freezes: list[FreezeWindow], zone: ZoneInfo, cap: int
) -> list[Day]:
    today = timezone.now().astimezone(zone).date()
    days = {first + timedelta(days=i): Day(first + timedelta(days=i)) for i in range((last - first).days + 1)}
    for cell in days.values():
        cell.today = cell.day == today
    for chip in chips:
        end_day = (chip.ends - timedelta(microseconds=1)).date()
        day: date = max(chip.starts.date(), first)
        while day <= min(end_day, last):
            cell = days[day]
            if len(cell.chips) < cap:
                cell.chips.append(chip)
            else:
                cell.more += 1
            day += timedelta(days=1)
    for freeze in freezes:
        day = max(freeze.starts_at.astimezone(zone).date(), first)
        end_day = (freeze.ends_at.astimezone(zone) - timedelta(microseconds=1)).date()
        while day <= min(end_day, last):
            days[day].freezes.append(freeze)
            day += timedelta(days=1)
    return list(days.values())


def _feed_links(request: AuthedRequest) -> list[tuple[str, str]]:
    user = request.user
    generation = feeds.generation_of(user)
    links = [(_("My changes"), feeds.token_for(user, generation=generation))]
    for group in selectors.groups_named(people_selectors.group_ids_of(user)):
        links.append((group.name, feeds.token_for(user, group.pk, generation=generation)))
    return [(name, request.build_absolute_uri(reverse("change_calendar:feed", args=[token]))) for name, token in links]


def _page(request: AuthedRequest, template: str, view: str, **context: Any) -> HttpResponse:
    query = request.GET.copy()
    for name in ("month", "week", "after", "start", "end"):
        query.pop(name, None)
    return render(
        request,
        template,
        {"view": view, "filter_query": query.urlencode(), "feed_links": _feed_links(request), **context},
    )


def _combine(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@agent_required
def month(request: AuthedRequest) -> HttpResponse:
    zone = viewer_zone(request.user)
    today = timezone.now().astimezone(zone).date()
    year, number = today.year, today.month
    raw = request.GET.get("month", "")
    if raw:
        matched = MONTH_RE.match(raw)
        if matched and 1970 <= int(matched[1]) <= 9998 and 1 <= int(matched[2]) <= 12:
            year, number = int(matched[1]), int(matched[2])
        else:
            messages.error(
                request, _("Unknown month “%(value)s”: use YYYY-MM. Showing this month.") % {"value": raw[:20]}
            )
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    grid_first = first - timedelta(days=first.weekday())
    last = following - timedelta(days=1)
    grid_last = last + timedelta(days=6 - last.weekday())
    start, end = _combine(grid_first, zone), _combine(grid_last + timedelta(days=1), zone)
    form, filters = _filters(request)
    changes = selectors.planned(start, end, filters)
    chips, listed = _chips(request, changes, start, end, zone)
    freezes = selectors.freezes_between(start, end)
    days = _days(grid_first, grid_last, chips, freezes, zone, DAY_CHIPS)
    for day in days:
        day.in_month = day.day.month == number
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    previous = first - timedelta(days=1)
    return _page(
        request,
        "agent/change_calendar/month.html",
        "month",
        form=form,
        weeks=weeks,
        first=first,
        previous=f"{previous.year:04d}-{previous.month:02d}",
        following=f"{following.year:04d}-{following.month:02d}",
        week_of=f"{first.isocalendar().year:04d}-W{first.isocalendar().week:02d}",
        conflicts=listed,
        total=len(chips),
        truncated=len(changes) >= selectors.MONTH_LIMIT,
        freezes=freezes,
        zone=zone,
    )


@agent_required
def week(request: AuthedRequest) -> HttpResponse:
    zone = viewer_zone(request.user)
    today = timezone.now().astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    raw = request.GET.get("week", "")
    if raw:
        matched = WEEK_RE.match(raw)
        try:
            if not matched:
                raise ValueError(raw)
            monday = date.fromisocalendar(int(matched[1]), int(matched[2]), 1)
        except ValueError:
            messages.error(
                request, _("Unknown week “%(value)s”: use YYYY-Www. Showing this week.") % {"value": raw[:20]}
            )
    sunday = monday + timedelta(days=6)
    start, end = _combine(monday, zone), _combine(sunday + timedelta(days=1), zone)
    form, filters = _filters(request)
    changes = selectors.planned(start, end, filters)
    chips, listed = _chips(request, changes, start, end, zone)
    freezes = selectors.freezes_between(start, end)
    days = _days(monday, sunday, chips, freezes, zone, WEEK_DAY_CHIPS)

    def iso(day: date) -> str:
        year, number, _weekday = day.isocalendar()
        return f"{year:04d}-W{number:02d}"

    return _page(
        request,
        "agent/change_calendar/week.html",
        "week",
        form=form,
        days=days,
        monday=monday,
        sunday=sunday,
        this_week=iso(monday),
        previous=iso(monday - timedelta(days=7)),
        following=iso(monday + timedelta(days=7)),
        month_of=f"{monday.year:04d}-{monday.month:02d}",
        conflicts=listed,
        freezes=freezes,
        zone=zone,
    )


def _day(raw: str, default: date) -> tuple[date, bool]:
    if not raw:
        return default, True
    if not DAY_RE.match(raw):
        return default, False
    try:
        return date.fromisoformat(raw), True
    except ValueError:
        return default, False


@agent_required
def change_list(request: AuthedRequest) -> HttpResponse:
    zone = viewer_zone(request.user)
    today = timezone.now().astimezone(zone).date()
    first, good_first = _day(request.GET.get("start", ""), today)
    last, good_last = _day(request.GET.get("end", ""), first + timedelta(days=30))
    if not (good_first and good_last):
        messages.error(request, _("Enter the dates as YYYY-MM-DD."))
    if last < first:
        messages.error(request, _("The period must end after it starts."))
        last = first
    if (last - first).days > MAX_LIST_DAYS:
        messages.error(request, _("At most a year at once."))
        last = first + timedelta(days=MAX_LIST_DAYS)
    start, end = _combine(first, zone), _combine(last + timedelta(days=1), zone)
    after = None
    raw_after = request.GET.get("after", "")
    if raw_after:
        try:
            when, pk = raw_after.rsplit("_", 1)
            after = (datetime.fromisoformat(when), int(pk))
            if after[0].tzinfo is None:
                raise ValueError(when)
        except ValueError:
            raise Http404("page") from None
    form, filters = _filters(request)
    rows, more = selectors.planned_page(start, end, filters, after=after)
    chips, listed = _chips(request, rows, start, end, zone, only_these=True)
    next_after = ""
    if more and rows:
        tail = rows[-1]
        assert tail.planned_start is not None
        next_after = f"{tail.planned_start.isoformat()}_{tail.pk}"
    return _page(
        request,
        "agent/change_calendar/list.html",
        "list",
        form=form,
        chips=chips,
        first=first,
        last=last,
        next_after=next_after,
        conflicts=listed,
        freezes=selectors.freezes_between(start, end),
        zone=zone,
    )


def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed of a signed link (no session)."""
    try:
        opened = feeds.open_feed(token)
    except NotFound:
        raise Http404("feed") from None
    link = change_url_maker()
    body = feeds.ical(
        opened,
        feeds.changes_of(opened),
        link_for=lambda change: request.build_absolute_uri(link(change.pk)) if link(change.pk) else "",
        host=request.get_host().split(":")[0] or "palier",
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="changes.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@agent_required
@require_POST
def feed_regenerate(request: AuthedRequest) -> HttpResponse:
    try:
        feed_services.regenerate_feed_links(by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("New calendar links made: the old ones no longer work."))
    return redirect("change_calendar:month")


# --- administration: freeze windows and maintenance windows -------------------------------------


@admin_required
def freeze_list(request: AuthedRequest) -> HttpResponse:
    form = FreezeForm(request.POST or None)
    if save_form(request, form, freeze_services.create_freeze) is not None:
        messages.success(request, _("Freeze window created."))
        return redirect("change_calendar:freezes")
    since = timezone.now() - timedelta(days=30)
    return form_page(request, "agent/change_calendar/freezes.html", form, freezes=selectors.freezes_from(since))


def _freeze(freeze_id: int) -> FreezeWindow:
    try:
        return selectors.get_freeze(freeze_id)
    except NotFound:
        raise Http404("freeze") from None


@admin_required
def freeze_edit(request: AuthedRequest, freeze_id: int) -> HttpResponse:
    freeze = _freeze(freeze_id)
    zone = viewer_zone(request.user)
    initial = {
        "name": freeze.name,
        "reason": freeze.reason,
        "starts_at": freeze.starts_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": freeze.ends_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
    }
    form = FreezeForm(request.POST or None, initial=initial)
    if save_form(request, form, freeze_services.update_freeze, freeze=freeze) is not None:
        messages.success(request, _("Saved."))
        return redirect("change_calendar:freezes")
    return form_page(request, "agent/change_calendar/freeze_edit.html", form, freeze=freeze)


@admin_required
@require_POST
def freeze_delete(request: AuthedRequest, freeze_id: int) -> HttpResponse:
    freeze = _freeze(freeze_id)
    try:
        freeze_services.delete_freeze(freeze, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Freeze window deleted."))
    return redirect("change_calendar:freezes")


@admin_required
def maintenance(request: AuthedRequest) -> HttpResponse:
    return render(
        request, "agent/change_calendar/maintenance.html", {"services": selectors.services_with_window_counts()}
    )


def _service(service_id: int) -> Any:
    try:
        return selectors.get_service(service_id)
    except NotFound:
        raise Http404("service") from None


@admin_required
def maintenance_service(request: AuthedRequest, service_id: int) -> HttpResponse:
    service = _service(service_id)
    form = MaintenanceWindowForm(request.POST or None)
    if save_form(request, form, freeze_services.add_maintenance_window, service=service) is not None:
        messages.success(request, _("Maintenance window added."))
        return redirect("change_calendar:maintenance-service", service.pk)
    return form_page(
        request,
        "agent/change_calendar/maintenance_service.html",
        form,
        service=service,
        windows=selectors.maintenance_windows_of(service),
    )


@admin_required
@require_POST
def maintenance_delete(request: AuthedRequest, service_id: int, window_id: int) -> HttpResponse:
    service = _service(service_id)
    try:
        window = selectors.get_maintenance_window(service, window_id)
    except NotFound:
        raise Http404("window") from None
    try:
        freeze_services.delete_maintenance_window(window, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, exc.message if isinstance(exc, DomainError) else " ".join(exc.messages))
    else:
        messages.success(request, _("Maintenance window removed."))
    return redirect("change_calendar:maintenance-service", service.pk)
