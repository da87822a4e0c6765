"""Reads of the change calendar's pages (the selectors of ``change_calendar:``): the changes
planned in a period with the filters, the freeze windows, the services and their maintenance
windows. Each is one query, bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet

from palier.assets import permissions as asset_permissions
from palier.assets.models import Asset, AssetType
from palier.changes.models import CHANGE_PREFIX, Change, ChangeFootprint, FreezeWindow, MaintenanceWindow, Risk
from palier.lib.errors import NotFound
from palier.people.models import SupportGroup, User

CHIP_FIELDS = ("number", "title", "kind", "status", "risk", "planned_start", "planned_end", "group_id")
MONTH_LIMIT = 3000
LIST_PAGE = 50


@dataclass(frozen=True)
class Filters:
    service_id: int | None = None
    asset_id: int | None = None
    group_id: int | None = None
    risk: str = ""

    @property
    def any(self) -> bool:
        return bool(self.service_id or self.asset_id or self.group_id or self.risk)


def planned_in(start: datetime, end: datetime, filters: Filters) -> QuerySet[Change]:
    changes = Change.objects.exclude(status__in=(Change.Status.CLOSED, Change.Status.REJECTED)).filter(
        planned_start__lt=end, planned_end__gt=start
    )
    for asset_id in (filters.service_id, filters.asset_id):
        if asset_id:
            changes = changes.filter(
                Exists(ChangeFootprint.objects.filter(change_id=OuterRef("pk"), asset_id=asset_id))
            )
    if filters.group_id:
        changes = changes.filter(group_id=filters.group_id)
    if filters.risk:
        changes = changes.filter(risk=filters.risk)
    return changes.only(*CHIP_FIELDS)


@dataclass(frozen=True)
class Planned:
    """A change as the calendar grid shows it (read as plain values: thousands in a month)."""

    pk: int
    number: int
    title: str
    kind: str
    status: str
    risk: str
    planned_start: datetime
    planned_end: datetime

    @property
    def reference(self) -> str:
        return f"{CHANGE_PREFIX}-{self.number}"

    def get_risk_display(self) -> str:
        return str(Risk(self.risk).label) if self.risk in Risk.values else self.risk

    def get_status_display(self) -> str:
        return str(Change.Status(self.status).label) if self.status in Change.Status.values else self.status


def planned(start: datetime, end: datetime, filters: Filters, *, limit: int = MONTH_LIMIT) -> list[Planned]:
    """The changes whose window overlaps [start, end), in start order, at most ``limit``."""
    rows = (
        planned_in(start, end, filters)
        .order_by("planned_start", "id")
        .values_list("pk", "number", "title", "kind", "status", "risk", "planned_start", "planned_end")[:limit]
    )
    return [
        Planned(pk, number, title, kind, status, risk, start_at, end_at)
        for pk, number, title, kind, status, risk, start_at, end_at in rows
        if start_at is not None and end_at is not None
    ]


def planned_page(
    start: datetime,
    end: datetime,
    filters: Filters,
    *,
    after: tuple[datetime, int] | None = None,
    size: int | None = None,
) -> tuple[list[Change], bool]:
    """One page of the list view (keyset on start, id) and whether more follow."""
    size = size or LIST_PAGE
    changes = (
        planned_in(start, end, filters)
        .select_related("group", "implementer")
        .only(*CHIP_FIELDS, "group__name", "implementer__full_name", "implementer__email")
    )
    if after is not None:
        from django.db.models import Q

        changes = changes.filter(Q(planned_start__gt=after[0]) | Q(planned_start=after[0], pk__gt=after[1]))
    rows = list(changes.order_by("planned_start", "id")[: size + 1])
    return rows[:size], len(rows) > size


def services(limit: int = 500) -> list[Asset]:
    """The business services (the filter and the maintenance windows' page)."""
    return list(
        Asset.objects.filter(type__family=AssetType.Family.SERVICE)
        .exclude(status__in=(Asset.Status.RETIRED, Asset.Status.DISPOSED))
        .only("id", "tag", "name")
        .order_by("name", "id")[:limit]
    )


def groups() -> list[SupportGroup]:
    return list(SupportGroup.objects.only("id", "name").order_by("name", "id")[:500])


def groups_named(ids: frozenset[int] | set[int]) -> list[SupportGroup]:
    return list(SupportGroup.objects.filter(pk__in=ids).only("id", "name").order_by("name", "id"))


def visible_asset_by_tag(viewer: User, tag: str) -> Asset | None:
    tag = (tag or "").strip()
    if not tag:
        return None
    return Asset.objects.filter(asset_permissions.visible(viewer), tag__iexact=tag).only("id", "tag", "name").first()


def visible_asset_ids(viewer: User, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(Asset.objects.filter(asset_permissions.visible(viewer), pk__in=ids).values_list("pk", flat=True))


def freezes_between(start: datetime, end: datetime) -> list[FreezeWindow]:
    return list(FreezeWindow.objects.filter(starts_at__lt=end, ends_at__gt=start).order_by("starts_at")[:100])


def freezes_from(since: datetime, limit: int = 200) -> list[FreezeWindow]:
    """The freezes not over yet (the administration page), soonest first."""
    return list(FreezeWindow.objects.filter(ends_at__gt=since).order_by("starts_at", "id")[:limit])


def get_freeze(freeze_id: int) -> FreezeWindow:
    freeze = FreezeWindow.objects.filter(pk=freeze_id).first()
    if freeze is None:
        raise NotFound("freeze")
    return freeze


def get_service(service_id: int) -> Asset:
    service = Asset.objects.filter(pk=service_id, type__family=AssetType.Family.SERVICE).select_related("type").first()
    if service is None:
        raise NotFound("service")
    return service


def maintenance_windows_of(service: Asset) -> list[MaintenanceWindow]:
    return list(MaintenanceWindow.objects.filter(service_id=service.pk).order_by("weekday", "start_time")[:200])


def get_maintenance_window(service: Asset, window_id: int) -> MaintenanceWindow:
    window = MaintenanceWindow.objects.filter(pk=window_id, service_id=service.pk).first()
    if window is None:
        raise NotFound("window")
    return window


def services_with_window_counts(limit: int = 500) -> list[tuple[Asset, int]]:
    from django.db.models import Count

    rows = (
        Asset.objects.filter(type__family=AssetType.Family.SERVICE)
        .annotate(slots=Count("maintenance_windows"))
        .only("id", "tag", "name")
        .order_by("name", "id")[:limit]
    )
    return [(asset, asset.slots) for asset in rows]
