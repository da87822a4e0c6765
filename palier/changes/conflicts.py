"""Conflicts of the change calendar (docs/changes.md, "Calendar and conflicts").

Three kinds, for the changes planned in a period (or a given set of changes):

- **asset**: two changes touch the same asset in overlapping windows, directly or through a
  dependency (their footprints, ``footprint.py``). Found by ONE self-join on ``ChangeFootprint``
  (index ``asset, starts_at, ends_at``). Windows that only touch (one ends when the other starts)
  do not overlap.
- **freeze**: the change's window overlaps a freeze window. ``freeze_check(change)`` refuses to
  schedule a standard or normal change in a freeze; an emergency change is only flagged.
- **maintenance**: the change touches a service (an asset with maintenance windows) and its window
  is not inside that service's weekly slots (each slot in its own time zone, else the desk's;
  daylight saving time is handled by ``zoneinfo``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from palier.assets.models import Asset
from palier.changes.models import CHANGE_PREFIX, Change, ChangeFootprint, FreezeWindow, MaintenanceWindow

Kind = Literal["asset", "freeze", "maintenance"]
# changes on the calendar: planned, not closed nor rejected
ACTIVE_EXCLUDED = (Change.Status.CLOSED, Change.Status.REJECTED)
# the most conflicts one detection returns (a hub asset in a busy month)
MAX_PAIRS = 5000


@dataclass(frozen=True)
class Conflict:
    kind: Kind
    change_id: int
    # asset conflicts: the other change and the asset both touch
    other_id: int | None = None
    other_reference: str = ""
    asset_id: int | None = None
    asset_label: str = ""
    # both changes name the asset themselves (False: at least one reaches it through a dependency)
    direct: bool = True
    # freeze conflicts: the freeze window; maintenance conflicts: the service
    freeze_id: int | None = None
    freeze_name: str = ""
    service_label: str = ""

    @property
    def message(self) -> str:
        if self.kind == "asset":
            if self.direct:
                return _("%(other)s also changes %(asset)s in an overlapping window.") % {
                    "other": self.other_reference,
                    "asset": self.asset_label,
                }
            return _("%(other)s touches %(asset)s in an overlapping window, through a dependency.") % {
                "other": self.other_reference,
                "asset": self.asset_label,
            }
        if self.kind == "freeze":
            return _("The window falls in the freeze “%(name)s”.") % {"name": self.freeze_name}
        return _("The window is outside the maintenance windows of %(service)s.") % {"service": self.service_label}


def _tz(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _asset_pairs(
    start: datetime | None, end: datetime | None, change_ids: Sequence[int] | None
) -> list[tuple[int, int, int, int, bool]]:
    """(change, other change, its number, asset, both direct): the one self-join, one row per pair of changes;
    the asset is one both name directly, else one at least one of them names, else any shared."""
    table = connection.ops.quote_name(ChangeFootprint._meta.db_table)
    changes = connection.ops.quote_name(Change._meta.db_table)
    where: list[str] = []
    params: list[Any] = []
    if start is not None and end is not None:
        where += ["a.starts_at < %s", "a.ends_at > %s"]
        params += [end, start]
    if change_ids is not None:
        if not change_ids:
            return []
        where.append(f"a.change_id IN ({', '.join(['%s'] * len(change_ids))})")
        params += list(change_ids)
    sql = (
        "SELECT a.change_id, b.change_id, MIN(o.number), "  # noqa: S608
        "MIN(CASE WHEN a.direct AND b.direct THEN a.asset_id END), "
        "MIN(CASE WHEN a.direct OR b.direct THEN a.asset_id END), MIN(a.asset_id) "
        f"FROM {table} a JOIN {table} b ON b.asset_id = a.asset_id AND b.change_id <> a.change_id "
        "AND b.starts_at < a.ends_at AND b.ends_at > a.starts_at "
        f"JOIN {changes} o ON o.id = b.change_id "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} "
        f"GROUP BY a.change_id, b.change_id ORDER BY a.change_id, b.change_id LIMIT {MAX_PAIRS}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            (int(mine), int(other), int(number), int(both or one or shared), both is not None)
            for mine, other, number, both, one, shared in cursor.fetchall()
        ]


def _overlaps(start: datetime, end: datetime, other_start: datetime, other_end: datetime) -> bool:
    return start < other_end and other_start < end


def slots_cover(slots: Iterable[MaintenanceWindow], start: datetime, end: datetime) -> bool:
    """Is [start, end) inside the weekly ``slots`` (joined end to end when they touch)?"""
    intervals: list[tuple[datetime, datetime]] = []
    for slot in slots:
        zone = _tz(slot.time_zone)
        first: date = start.astimezone(zone).date() - timedelta(days=1)
        last: date = end.astimezone(zone).date()
        day = first
        while day <= last:
            if day.weekday() == slot.weekday:
                # compared in UTC: aware datetimes sharing a tzinfo compare by wall time otherwise
                opens = datetime.combine(day, slot.start_time, tzinfo=zone).astimezone(UTC)
                closes = datetime.combine(day, slot.end_time, tzinfo=zone).astimezone(UTC)
                if closes > opens:
                    intervals.append((opens, closes))
            day += timedelta(days=1)
    cursor = start.astimezone(UTC)
    goal = end.astimezone(UTC)
    for opens, closes in sorted(intervals):
        if opens > cursor:
            break
        if closes > cursor:
            cursor = closes
        if cursor >= goal:
            return True
    return cursor >= goal


Window = tuple[datetime, datetime, str]


def _windows(start: datetime | None, end: datetime | None, change_ids: Sequence[int] | None) -> dict[int, Window]:
    changes = Change.objects.exclude(status__in=ACTIVE_EXCLUDED).filter(
        planned_start__isnull=False, planned_end__isnull=False
    )
    if start is not None and end is not None:
        changes = changes.filter(planned_start__lt=end, planned_end__gt=start)
    if change_ids is not None:
        changes = changes.filter(pk__in=list(change_ids))
    rows = changes.values_list("pk", "planned_start", "planned_end", "kind")
    return {pk: (s, e, kind) for pk, s, e, kind in rows if s is not None and e is not None}


def _pairs(
    start: datetime | None, end: datetime | None, windows: dict[int, Window], ids: Sequence[int] | None
) -> dict[tuple[int, int], tuple[int, int, bool]]:
    """(change, other) -> (other's number, asset, both direct), for the changes in ``windows``."""
    return {
        (mine, other): (number, asset_id, direct)
        for mine, other, number, asset_id, direct in _asset_pairs(start, end, ids)
        if mine in windows
    }


def _services_touched(
    start: datetime | None, end: datetime | None, windows: dict[int, Window], ids: Sequence[int] | None
) -> tuple[list[tuple[int, int]], dict[int, list[MaintenanceWindow]]]:
    """(change, service) for the services with maintenance windows the changes touch, and the slots."""
    rows = ChangeFootprint.objects.filter(asset_id__in=MaintenanceWindow.objects.values("service_id")).values_list(
        "change_id", "asset_id"
    )
    if ids is not None:
        rows = rows.filter(change_id__in=list(ids))
    elif start is not None and end is not None:
        rows = rows.filter(starts_at__lt=end, ends_at__gt=start)
    touched = sorted({(change_id, asset_id) for change_id, asset_id in rows if change_id in windows})
    slots: dict[int, list[MaintenanceWindow]] = defaultdict(list)
    if touched:
        for slot in MaintenanceWindow.objects.filter(service_id__in={a for _c, a in touched}):
            slots[slot.service_id].append(slot)
    return touched, slots


def detect(
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    change_ids: Sequence[int] | None = None,
    windows: dict[int, Window] | None = None,
) -> dict[int, list[Conflict]]:
    """The conflicts of the changes planned in [start, end) (or of ``change_ids``), by change id.
    ``windows`` (change id -> start, end, type): the changes the caller already read, to report
    on those only without reading them again. A fixed number of queries whatever the number of
    changes."""
    if windows is None:
        windows = _windows(start, end, change_ids)
    if not windows:
        return {}
    ids = sorted(windows)
    pairs = _pairs(start, end, windows, ids if change_ids is not None else None)
    low = min(s for s, _e, _k in windows.values())
    high = max(e for _s, e, _k in windows.values())
    freezes = list(
        FreezeWindow.objects.filter(starts_at__lt=high, ends_at__gt=low).values_list(
            "pk", "name", "starts_at", "ends_at"
        )
    )
    touched, slots = _services_touched(start, end, windows, ids if change_ids is not None or start is None else None)
    # the labels of the assets named and the references of the other changes: two queries
    asset_ids = {a for _n, a, _d in pairs.values()} | {a for _c, a in touched}
    labels = {
        pk: f"{tag} {name}" for pk, tag, name in Asset.objects.filter(pk__in=asset_ids).values_list("pk", "tag", "name")
    }
    found: dict[int, list[Conflict]] = defaultdict(list)
    for (mine, other), (number, asset_id, direct) in sorted(pairs.items()):
        found[mine].append(
            Conflict(
                kind="asset",
                change_id=mine,
                other_id=other,
                other_reference=f"{CHANGE_PREFIX}-{number}",
                asset_id=asset_id,
                asset_label=labels.get(asset_id, ""),
                direct=direct,
            )
        )
    for pk in ids:
        s, e, _kind = windows[pk]
        for freeze_id, name, f_start, f_end in freezes:
            if _overlaps(s, e, f_start, f_end):
                found[pk].append(Conflict(kind="freeze", change_id=pk, freeze_id=freeze_id, freeze_name=name))
    for change_id, service_id in touched:
        s, e, _kind = windows[change_id]
        if not slots_cover(slots[service_id], s, e):
            found[change_id].append(
                Conflict(
                    kind="maintenance",
                    change_id=change_id,
                    asset_id=service_id,
                    service_label=labels.get(service_id, ""),
                )
            )
    return dict(found)


def conflicts_for_change(change: Change) -> list[Conflict]:
    """The conflicts of one change (its page's box); none without a window."""
    if not (change.planned_start and change.planned_end) or change.status in ACTIVE_EXCLUDED:
        return []
    return detect(change_ids=[change.pk]).get(change.pk, [])


def freezes_over(start: datetime, end: datetime) -> list[FreezeWindow]:
    return list(FreezeWindow.objects.filter(starts_at__lt=end, ends_at__gt=start))


def freeze_check(change: Change) -> list[FreezeWindow]:
    """Before scheduling a change: a standard or normal change whose window falls in a freeze is
    refused (``ValidationError`` naming the freeze); an emergency change passes, and the freezes it
    falls in are returned so the caller can flag them."""
    if not (change.planned_start and change.planned_end):
        return []
    freezes = freezes_over(change.planned_start, change.planned_end)
    if freezes and change.kind != Change.Kind.EMERGENCY:
        freeze = freezes[0]
        zone = timezone.get_current_timezone()
        raise ValidationError(
            {
                "planned_start": _(
                    "The window falls in the freeze “%(name)s” (%(start)s to %(end)s); only an emergency change may be scheduled then."
                )
                % {
                    "name": freeze.name,
                    "start": formats.date_format(freeze.starts_at.astimezone(zone), "SHORT_DATETIME_FORMAT"),
                    "end": formats.date_format(freeze.ends_at.astimezone(zone), "SHORT_DATETIME_FORMAT"),
                }
            }
        )
    return freezes
