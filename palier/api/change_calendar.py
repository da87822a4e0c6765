"""The change calendar through the API: the changes planned in a period with their conflicts,
one change's conflicts, the freeze windows and the services' maintenance windows
(docs/changes.md, "API").

The same rules as the pages: agents read the calendar, the freezes and the maintenance windows;
only administrators create, change and delete freeze and maintenance windows. Conflict detection
is ``changes.conflicts.detect`` (one detection for the whole period, a fixed number of queries);
an asset the caller may not see is named "a restricted item"."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header

from palier.api.auth import current_user
from palier.api.errors import Problem as HttpProblem
from palier.api.pagination import keyset_page
from palier.api.schemas.change_calendar import (
    CalendarOut,
    ConflictOut,
    FreezeIn,
    FreezeOut,
    FreezePage,
    FreezePatch,
    MaintenanceWindowIn,
    MaintenanceWindowOut,
)
from palier.assets import selectors as asset_selectors
from palier.assets.models import AssetType
from palier.changes import api_selectors, calendar_selectors, conflicts, permissions
from palier.changes import selectors_api as change_selectors
from palier.changes.models import FreezeIdempotencyKey, FreezeWindow, Risk
from palier.changes.services import freezes as freeze_services
from palier.people.models import User
from palier.problems.services import create_once

router = Router()
changes_router = Router()

MAX_DAYS = 93


def _agent(request: HttpRequest) -> User:
    user = current_user(request)
    if not permissions.can(user, "view"):
        raise HttpProblem(403, _("Only the desk's agents may work with changes."))
    return user


def _admin(request: HttpRequest) -> User:
    user = _agent(request)
    if not permissions.can(user, "administer"):
        raise HttpProblem(403, _("Only administrators manage freeze and maintenance windows."))
    return user


def _conflicts(user: User, found: list[conflicts.Conflict]) -> list[dict[str, Any]]:
    """The conflicts as the API shows them; an asset the caller may not see is not named."""
    visible = calendar_selectors.visible_asset_ids(user, {c.asset_id for c in found if c.asset_id})
    restricted = _("a restricted item")
    out: list[dict[str, Any]] = []
    for c in found:
        if c.asset_id is not None and c.asset_id not in visible:
            c = replace(c, asset_id=None, asset_label=restricted, service_label=restricted)
        label = c.service_label if c.kind == "maintenance" else c.asset_label
        out.append(
            {
                "kind": c.kind,
                "change": c.change_id,
                "other_change": c.other_id,
                "other_reference": c.other_reference,
                "asset": {"id": c.asset_id, "name": label} if c.kind != "freeze" else None,
                "direct": c.direct,
                "freeze": {"id": c.freeze_id, "name": c.freeze_name} if c.kind == "freeze" else None,
                "message": c.message,
            }
        )
    return out


# --- calendar -------------------------------------------------------------------------------------


class CalendarQuery(Schema):
    start: datetime = Field(description="ISO 8601; the period's start.")
    end: datetime = Field(description=f"ISO 8601; after the start, at most {MAX_DAYS} days later.")
    service: int | None = Field(None, description="Changes touching this business service.")
    asset: int | None = Field(None, description="Changes touching this asset (directly or through a dependency).")
    group: int | None = Field(None, description="Changes of this support group.")
    risk: str = Field("", description="low, medium, high or critical.")

    def to_filters(self) -> calendar_selectors.Filters:
        if self.end <= self.start:
            raise ValidationError({"end": _("The period must end after it starts.")})
        if self.end - self.start > timedelta(days=MAX_DAYS):
            raise ValidationError({"end": _("The period is at most %(n)d days long.") % {"n": MAX_DAYS}})
        if self.risk and self.risk not in Risk.values:
            raise ValidationError({"risk": _("Unknown value; use one of: %(s)s.") % {"s": ", ".join(Risk.values)}})
        return calendar_selectors.Filters(
            service_id=self.service, asset_id=self.asset, group_id=self.group, risk=self.risk
        )


@changes_router.get("/calendar", response=CalendarOut, url_name="change_calendar", summary="The change calendar")
def calendar(request: HttpRequest, query: Query[CalendarQuery]) -> dict[str, Any]:
    """The changes (not closed nor rejected) whose planned window overlaps [start, end), in start
    order, filtered by service, asset, group and risk, and their conflicts: **asset** (two changes
    touch the same asset in overlapping windows, ``direct`` false when through a dependency),
    **freeze** (the window falls in a freeze) and **maintenance** (the change touches a service
    outside its maintenance windows). At most 3,000 changes (``truncated`` says more exist); a
    period longer than 93 days or reversed answers 422."""
    user = _agent(request)
    filters = query.to_filters()
    rows = api_selectors.calendar(query.start, query.end, filters, limit=calendar_selectors.MONTH_LIMIT + 1)
    truncated = len(rows) > calendar_selectors.MONTH_LIMIT
    rows = rows[: calendar_selectors.MONTH_LIMIT]
    windows = {r.id: (r.planned_start, r.planned_end, r.kind) for r in rows}
    found = conflicts.detect(query.start, query.end, windows=windows) if windows else {}
    flat = [c for r in rows for c in found.get(r.id, [])]
    changes = [
        {
            "id": r.id,
            "reference": r.reference,
            "title": r.title,
            "kind": r.kind,
            "status": r.status,
            "risk": r.risk,
            "planned_start": r.planned_start,
            "planned_end": r.planned_end,
            "group": {"id": r.group_id, "name": r.group_name} if r.group_id else None,
        }
        for r in rows
    ]
    return {
        "start": query.start,
        "end": query.end,
        "changes": changes,
        "conflicts": _conflicts(user, flat),
        "truncated": truncated,
    }


@changes_router.get(
    "/{int:change_id}/conflicts",
    response=list[ConflictOut],
    url_name="change_conflicts",
    summary="A change's conflicts",
)
def change_conflicts(request: HttpRequest, change_id: int) -> list[dict[str, Any]]:
    """The conflicts of one change (none without a window, or once closed or rejected)."""
    user = _agent(request)
    change = change_selectors.get_change_for(user, change_id)
    return _conflicts(user, conflicts.conflicts_for_change(change))


# --- freeze windows -------------------------------------------------------------------------------


def _etag(freeze: FreezeWindow) -> str:
    """A weak ETag from the freeze's fields (freezes have no version column)."""
    fields = [freeze.name, freeze.reason, freeze.starts_at.isoformat(), freeze.ends_at.isoformat()]
    digest = hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:20]
    return f'W/"freeze-{freeze.pk}-{digest}"'


def _same(if_match: str, freeze: FreezeWindow) -> bool:
    def opaque(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return any(opaque(part) == opaque(_etag(freeze)) for part in if_match.split(","))


def _check(freeze: FreezeWindow, if_match: str | None, *, required: bool) -> None:
    if if_match is None:
        if required:
            raise HttpProblem(
                428,
                _("Send the ETag you received in an If-Match header."),
                errors={"If-Match": [_("This header is required.")]},
            )
        return
    if not _same(if_match, freeze):
        raise HttpProblem(412, _("This freeze was changed since you read it; read it again."))


class FreezeQuery(Schema):
    start: datetime | None = Field(None, description="Freezes ending after this (default: now).")
    end: datetime | None = Field(None, description="Freezes starting before this.")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


@router.get("/freezes", response=FreezePage, url_name="freeze_list", summary="Freeze windows")
def list_freezes(request: HttpRequest, query: Query[FreezeQuery]) -> dict[str, Any]:
    """The freeze windows overlapping the period (by default those not over yet), in start
    order; keyset-paginated."""
    _agent(request)
    if query.start and query.end and query.end <= query.start:
        raise ValidationError({"end": _("The period must end after it starts.")})
    items, cursor = keyset_page(
        api_selectors.freezes(query.start, query.end),
        order=("starts_at", "id"),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": items, "next_cursor": cursor}


@router.post("/freezes", response={200: FreezeOut, 201: FreezeOut}, summary="Add a freeze window")
def create_freeze(
    request: HttpRequest,
    payload: FreezeIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Administrators only. A window ending before it starts, or overlapping another freeze,
    answers 422 naming it. Retrying with the same ``Idempotency-Key`` returns the first freeze
    (200)."""
    user = _admin(request)

    def create() -> FreezeWindow:
        return freeze_services.create_freeze(
            by=user, name=payload.name, starts_at=payload.starts_at, ends_at=payload.ends_at, reason=payload.reason
        )

    created = True
    if idempotency_key:
        fingerprint = hashlib.sha256(json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        freeze, created = create_once(
            store=FreezeIdempotencyKey,
            field="freeze",
            key=idempotency_key,
            fingerprint=fingerprint,
            by=user,
            create=create,
        )
    else:
        freeze = create()
    freeze = api_selectors.get_freeze(freeze.pk)
    response["Location"] = reverse("api:freeze_detail", args=[freeze.pk])
    response["ETag"] = _etag(freeze)
    return Status(201 if created else 200, freeze)


@router.get("/freezes/{int:freeze_id}", response=FreezeOut, url_name="freeze_detail", summary="Read a freeze window")
def get_freeze(request: HttpRequest, freeze_id: int, response: HttpResponse) -> FreezeWindow | HttpResponse:
    """One freeze window. Its weak ETag comes from its fields; ``If-None-Match`` with it answers 304."""
    _agent(request)
    freeze = api_selectors.get_freeze(freeze_id)
    response["ETag"] = _etag(freeze)
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _same(if_none_match, freeze):
        return HttpResponse(status=304, headers={"ETag": response["ETag"]})
    return freeze


@router.patch("/freezes/{int:freeze_id}", response=FreezeOut, summary="Change a freeze window")
def update_freeze(
    request: HttpRequest,
    freeze_id: int,
    payload: FreezePatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> FreezeWindow:
    """Administrators only. Send the ETag you read as If-Match: none answers 428, a stale one 412.
    Moved onto another freeze or reversed answers 422; nothing changes."""
    user = _admin(request)
    freeze = api_selectors.get_freeze(freeze_id, lock=True)
    _check(freeze, if_match, required=True)
    data = payload.model_dump(exclude_unset=True)
    for name in ("name", "starts_at", "ends_at"):
        if name in data and data[name] is None:
            raise ValidationError({name: _("This field may not be null.")})
    freeze_services.update_freeze(
        freeze,
        by=user,
        name=data.get("name", freeze.name),
        starts_at=data.get("starts_at", freeze.starts_at),
        ends_at=data.get("ends_at", freeze.ends_at),
        reason=str(data["reason"]) if data.get("reason") is not None else freeze.reason,
    )
    freeze = api_selectors.get_freeze(freeze_id)
    response["ETag"] = _etag(freeze)
    return freeze


@router.delete("/freezes/{int:freeze_id}", response={204: None}, summary="Delete a freeze window")
def delete_freeze(
    request: HttpRequest, freeze_id: int, if_match: str | None = Header(None, alias="If-Match")
) -> Status[Any]:
    """Administrators only. An If-Match that no longer matches answers 412."""
    user = _admin(request)
    freeze = api_selectors.get_freeze(freeze_id, lock=True)
    _check(freeze, if_match, required=False)
    freeze_services.delete_freeze(freeze, by=user)
    return Status(204, None)


# --- maintenance windows --------------------------------------------------------------------------


@router.get(
    "/assets/{int:asset_id}/maintenance-windows",
    response=list[MaintenanceWindowOut],
    url_name="maintenance_windows",
    summary="A service's maintenance windows",
)
def list_maintenance_windows(request: HttpRequest, asset_id: int) -> list[Any]:
    """The weekly slots when the business service may be changed (none for another asset). An
    asset you may not see answers 404."""
    user = _agent(request)
    asset = asset_selectors.get_asset_for(user, asset_id)
    if asset.type.family != AssetType.Family.SERVICE:
        return []
    return list(api_selectors.maintenance_windows_of(asset.pk).order_by("weekday", "start_time", "id")[:200])


@router.post(
    "/assets/{int:asset_id}/maintenance-windows",
    response={201: MaintenanceWindowOut},
    summary="Add a maintenance window",
)
def add_maintenance_window(request: HttpRequest, asset_id: int, payload: MaintenanceWindowIn) -> Status[Any]:
    """Administrators only. A weekly slot of a business service (422 for another asset, a slot
    ending before it starts, an unknown time zone)."""
    user = _admin(request)
    asset = asset_selectors.get_asset_for(user, asset_id)
    window = freeze_services.add_maintenance_window(
        by=user,
        service=asset,
        weekday=payload.weekday,
        start_time=payload.start_time,
        end_time=payload.end_time,
        time_zone=payload.time_zone,
    )
    return Status(201, window)


@router.delete("/maintenance-windows/{int:window_id}", response={204: None}, summary="Delete a maintenance window")
def delete_maintenance_window(request: HttpRequest, window_id: int) -> Status[Any]:
    """Administrators only."""
    user = _admin(request)
    freeze_services.delete_maintenance_window(api_selectors.get_maintenance_window(window_id), by=user)
    return Status(204, None)
