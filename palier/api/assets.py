"""Assets and configuration items: list, create, read, change, lifecycle, history, relationships,
the impact walk, ticket links, types, locations, licences and their seats (docs/assets.md, "API").

The same rules as the pages (``assets/permissions.py``): requesters see only the assets assigned
to them (anything else answers 404) and may link those to their own open tickets; agents see by
scope; administrators see everything. Assets are never deleted here: retire them instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header

from palier.api import etag, lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.schemas.assets import (
    AssetCreate,
    AssetEventPage,
    AssetOut,
    AssetPage,
    AssetPatch,
    AssetRef,
    AssetTicketIn,
    AssetTypeOut,
    ComplianceOut,
    ImpactOut,
    KeyOut,
    LicenceCreate,
    LicenceOut,
    LicencePage,
    LicencePatch,
    LocationPage,
    RelationshipIn,
    RelationshipOut,
    SeatIn,
    SeatOut,
    SeatPage,
    StatusIn,
    TicketAssetIn,
    TicketRef,
    TicketRefPage,
)
from palier.assets import graph, licences, selectors, services
from palier.assets.models import Asset, AssetType, Licence, Location, Supplier
from palier.assets.services.idempotent import create_once
from palier.people.models import User
from palier.tickets import selectors as ticket_selectors

router = Router()
tickets_router = Router()

RELATED = ("type", "assigned_to", "location", "organisation", "owner_group", "supplier")


# --- helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    pk: int
    etag: str


def _tagged(asset: Asset) -> _Version:
    return _Version(asset.pk, f'"{asset.pk}-{asset.version}"')


def _expected(asset: Asset, if_match: str | None, version: int | None, *, required: bool) -> int | None:
    return etag.expected_version(
        _tagged(asset),
        if_match,
        version,
        required=required,
        mismatch=_("If-Match does not match this asset; send the ETag you received."),
    )


def _render(user: User, asset_id: int, response: HttpResponse) -> Asset:
    asset = selectors.get_asset_for(user, asset_id)
    response["ETag"] = _tagged(asset).etag
    return asset


def _type(slug: str, field: str = "type") -> AssetType:
    return lookups.required(selectors.type_by_slug(slug.strip()), field)


def _location(pk: int, *, field: str = "location") -> Location:
    return lookups.required(selectors.find_location(pk), field)


def _supplier(pk: int, *, field: str = "supplier") -> Supplier:
    return lookups.required(selectors.find_supplier(pk), field)


REFERENCES = (
    ("assigned_to", lookups.user_by_id),
    ("organisation", lookups.organisation_by_id),
    ("department", lookups.department_by_id),
    ("owner_group", lookups.group_by_id),
    ("location", _location),
    ("supplier", _supplier),
)


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """The sent fields with ids turned into objects (an unknown id answers 422 on its field)."""
    for name, getter in REFERENCES:
        if data.get(name) is not None:
            data[name] = getter(data[name], field=name)
    if data.get("type") is not None:
        data["type"] = _type(data["type"])
    if "attributes" in data and data["attributes"] is None:
        data.pop("attributes")
    return data


def _require_staff(user: User) -> None:
    if not (user.is_agent or user.is_admin):
        raise Problem(403, _("Only the desk's staff may do this."))


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


class AssetListQuery(PageQuery):
    q: str = Field("", max_length=200, description="Words in the tag, name, serial, model or manufacturer.")
    type: str = Field("", max_length=60, description="A type's identifier (slug).")
    family: str = Field("", max_length=16, description="hardware, software, licence, application or service.")
    status: list[str] = Field(default_factory=list, description="Repeat it or separate with commas.")
    assigned_to: int | None = None
    location: int | None = Field(None, description="This location and every place under it.")
    organisation: int | None = None
    owner_group: int | None = None
    unowned: bool = Field(False, description="Only assets with no owner group and nobody assigned.")
    warranty_before: date | None = Field(None, description="Warranty ending before this day.")
    inventory_before: date | None = Field(None, description="Machines without an inventory report since.")
    stale: bool = Field(False, description="Machines without an inventory report for PALIER_INVENTORY_STALE_DAYS.")

    def to_filters(self) -> selectors.AssetFilters:
        statuses = _split(self.status)
        if set(statuses) - set(Asset.Status.values):
            raise ValidationError(
                {"status": _("Unknown status; use one of: %(s)s.") % {"s": ", ".join(Asset.Status.values)}}
            )
        if self.family and self.family not in AssetType.Family.values:
            raise ValidationError({"family": _("Unknown family.")})
        inventory_before = self.inventory_before
        if self.stale:
            inventory_before = timezone.localdate() - timedelta(days=settings.PALIER_INVENTORY_STALE_DAYS)
        return selectors.AssetFilters(
            q=self.q,
            type=self.type,
            family=self.family,
            status=tuple(statuses),
            assigned_to=self.assigned_to,
            location=self.location,
            organisation=self.organisation,
            owner_group=self.owner_group,
            unowned=self.unowned,
            warranty_before=self.warranty_before,
            inventory_before=inventory_before,
        )


# --- assets ---------------------------------------------------------------------------------------


@router.get("/assets", response=AssetPage, url_name="asset_list")
def list_assets(request: HttpRequest, query: Query[AssetListQuery]) -> dict[str, Any]:
    """Assets you may see, in tag order, filtered and keyset-paginated: pass ``next_cursor`` back
    as ``cursor``. ``unowned=true`` and ``stale=true`` are the warnings' lists."""
    user = current_user(request)
    qs = selectors.filtered(user, query.to_filters()).select_related(*RELATED)
    items, cursor = keyset_page(qs, order=("tag",), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/assets", response={200: AssetOut, 201: AssetOut})
def create_asset(
    request: HttpRequest,
    payload: AssetCreate,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Add an asset (desk staff). Retrying with the same ``Idempotency-Key`` returns the asset
    created the first time (200) instead of refusing the tag."""
    user = current_user(request)
    data = payload.model_dump(exclude_unset=True)
    status = data.pop("status", Asset.Status.IN_STOCK)
    values = _values(data)

    def create() -> Asset:
        return services.create_asset(user, values, status=status)

    created = True
    if idempotency_key:
        fingerprint = hashlib.sha256(json.dumps(payload.model_dump(), sort_keys=True).encode()).hexdigest()
        asset, created = create_once(key=idempotency_key, fingerprint=fingerprint, by=user, create=create)
    else:
        asset = create()
    response["Location"] = reverse("api:asset_detail", args=[asset.pk])
    return Status(201 if created else 200, _render(user, asset.pk, response))


@router.get("/assets/{int:asset_id}", response=AssetOut, url_name="asset_detail")
def get_asset(request: HttpRequest, asset_id: int, response: HttpResponse) -> Asset | HttpResponse:
    """One asset. The ETag header carries its version; ``If-None-Match`` with it answers 304."""
    asset = _render(current_user(request), asset_id, response)
    if request.headers.get("If-None-Match") == response["ETag"]:
        return HttpResponse(status=304, headers={"ETag": response["ETag"]})
    return asset


@router.patch("/assets/{int:asset_id}", response=AssetOut)
def update_asset(
    request: HttpRequest,
    asset_id: int,
    payload: AssetPatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Asset:
    """Change fields. Send the version you saw (If-Match or ``version``): a stale one answers 412.
    The status has its own endpoint."""
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    expected = _expected(asset, if_match, payload.version, required=True)
    values = _values(payload.model_dump(exclude_unset=True, exclude={"version"}))
    services.update_asset(user, asset, values, expected_version=expected)
    return _render(user, asset.pk, response)


@router.post("/assets/{int:asset_id}/status", response=AssetOut)
def change_status(
    request: HttpRequest,
    asset_id: int,
    payload: StatusIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Asset:
    """Move the asset along its lifecycle (ordered, in stock, deployed, in repair, retired,
    disposed); a move the lifecycle forbids answers 409. Retire an asset rather than delete it."""
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    expected = _expected(asset, if_match, payload.version, required=False)
    services.change_status(user, asset, payload.status, expected_version=expected, note=payload.note)
    return _render(user, asset.pk, response)


@router.get("/assets/{int:asset_id}/history", response=AssetEventPage)
def asset_history(request: HttpRequest, asset_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """Every change of the asset, oldest first: who, when, old → new."""
    asset = selectors.get_asset_for(current_user(request), asset_id)
    items, cursor = keyset_page(selectors.events_of(asset), order=("id",), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


# --- relationships and impact -----------------------------------------------------------------------


def _relationship_out(asset: Asset, relation: Any) -> dict[str, Any]:
    needs = relation.source_id == asset.pk
    return {
        "id": relation.pk,
        "kind": relation.kind,
        "direction": "needs" if needs else "needed_by",
        "other": relation.target if needs else relation.source,
    }


@router.get("/assets/{int:asset_id}/relationships", response=list[RelationshipOut])
def list_relationships(request: HttpRequest, asset_id: int) -> list[dict[str, Any]]:
    """What this asset needs and what needs it, both ways (the items you may not see left out)."""
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    relations = list(selectors.relationships_of(asset).order_by("id")[:500])
    others = {r.target_id if r.source_id == asset.pk else r.source_id for r in relations}
    shown = selectors.visible_among(user, sorted(others))
    return [
        _relationship_out(asset, r)
        for r in relations
        if (r.target_id if r.source_id == asset.pk else r.source_id) in shown
    ]


@router.post("/assets/{int:asset_id}/relationships", response={201: RelationshipOut})
def add_relationship(request: HttpRequest, asset_id: int, payload: RelationshipIn) -> Status[Any]:
    """``this asset <kind> target``, e.g. app-01 runs on vm-12. A relationship that would make a
    loop answers 422 with the message."""
    user = current_user(request)
    source = selectors.get_asset_for(user, asset_id)
    target = selectors.get_asset_for(user, payload.target)
    relation = services.relate(user, source, payload.kind, target)
    return Status(201, _relationship_out(source, relation))


@router.delete("/assets/{int:asset_id}/relationships/{int:relationship_id}", response={204: None})
def remove_relationship(request: HttpRequest, asset_id: int, relationship_id: int) -> Status[Any]:
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    services.unrelate(user, selectors.get_relationship_for(asset, relationship_id))
    return Status(204, None)


@router.get("/assets/{int:asset_id}/impact", response=ImpactOut)
def impact(
    request: HttpRequest,
    asset_id: int,
    direction: Literal["up", "down"] = "up",
    depth: int = Query(3, ge=1, le=graph.MAX_DEPTH),  # type: ignore[type-arg]
) -> dict[str, Any]:
    """The impact walk: ``up`` what depends on this asset, ``down`` what it needs, up to ``depth``
    levels (one query per level). Items you may not see are counted in ``hidden``, not shown."""
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    walked = graph.walk(asset.pk, direction=direction, depth=depth)
    shown = selectors.visible_among(user, list(walked.levels))
    nodes = [
        {"id": a.pk, "tag": a.tag, "name": a.name, "status": a.status, "type": a.type.slug, "level": walked.levels[pk]}
        for pk, a in sorted(shown.items(), key=lambda item: (walked.levels[item[0]], item[1].tag))
    ]
    edges = [{"source": s, "target": t, "kind": k} for s, t, k in walked.edges if s in shown and t in shown]
    return {
        "start": asset.pk,
        "direction": direction,
        "depth": depth,
        "nodes": nodes,
        "edges": edges,
        "truncated": walked.truncated,
        "hidden": len(walked.levels) - len(shown),
    }


# --- ticket links ---------------------------------------------------------------------------------


@router.get("/assets/{int:asset_id}/tickets", response=TicketRefPage)
def asset_tickets(request: HttpRequest, asset_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """The tickets linked to this asset that you may see, oldest first, keyset-paginated."""
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    items, cursor = keyset_page(
        selectors.tickets_query(user, asset), order=("id",), cursor=page.cursor, limit=page.limit
    )
    return {"items": items, "next_cursor": cursor}


@router.post("/assets/{int:asset_id}/tickets", response={201: TicketRef, 200: TicketRef})
def link_asset_ticket(request: HttpRequest, asset_id: int, payload: AssetTicketIn) -> Status[Any]:
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    ticket = ticket_selectors.get_ticket_for(user, payload.ticket)
    link = services.link_ticket(user, ticket, asset)
    return Status(201 if link else 200, ticket)


@router.delete("/assets/{int:asset_id}/tickets/{int:ticket_id}", response={204: None})
def unlink_asset_ticket(request: HttpRequest, asset_id: int, ticket_id: int) -> Status[Any]:
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    services.unlink_ticket(user, ticket_selectors.get_ticket_for(user, ticket_id), asset)
    return Status(204, None)


@tickets_router.get("/{int:ticket_id}/assets", response=list[AssetRef])
def ticket_assets(request: HttpRequest, ticket_id: int) -> list[Asset]:
    """The assets this ticket touches that you may see."""
    user = current_user(request)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    return list(selectors.assets_of_ticket(user, ticket).order_by("tag")[:100])


@tickets_router.post("/{int:ticket_id}/assets", response={201: AssetRef, 200: AssetRef})
def link_ticket_asset(request: HttpRequest, ticket_id: int, payload: TicketAssetIn) -> Status[Any]:
    """Link an asset to the ticket. A requester links only their own devices to their own open
    requests; someone else's asset answers 404."""
    user = current_user(request)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    asset = selectors.get_asset_for(user, payload.asset)
    link = services.link_ticket(user, ticket, asset)
    return Status(201 if link else 200, asset)


@tickets_router.delete("/{int:ticket_id}/assets/{int:asset_id}", response={204: None})
def unlink_ticket_asset(request: HttpRequest, ticket_id: int, asset_id: int) -> Status[Any]:
    user = current_user(request)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    services.unlink_ticket(user, ticket, selectors.get_asset_for(user, asset_id))
    return Status(204, None)


# --- types and locations --------------------------------------------------------------------------


@router.get("/asset-types", response=list[AssetTypeOut])
def list_types(request: HttpRequest) -> list[AssetType]:
    """Every asset type with its own fields' definitions (key, labels, type, choices, required)."""
    current_user(request)
    return list(selectors.types_query()[:500])


@router.get("/locations", response=LocationPage)
def list_locations(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """The location tree in path order ("Lyon › Bâtiment A › 2e étage")."""
    _require_staff(current_user(request))
    items, cursor = keyset_page(selectors.all_locations(), order=("path", "id"), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


# --- licences -------------------------------------------------------------------------------------


class LicenceQuery(PageQuery):
    expiring_within: int | None = Field(None, ge=0, le=3650, description="Only those expiring within N days.")
    over_allocated: bool = False


@router.get("/licences", response=LicencePage)
def list_licences(request: HttpRequest, query: Query[LicenceQuery]) -> dict[str, Any]:
    """Licences you may see with their seats used; the key is masked."""
    user = current_user(request)
    if query.expiring_within is not None:
        qs = licences.expiring(user, days=query.expiring_within)
    elif query.over_allocated:
        qs = licences.over_allocated(user)
    else:
        qs = licences.licences_visible_to(user)
    items, cursor = keyset_page(qs, order=("asset_id",), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


@router.get("/licences/compliance", response=list[ComplianceOut])
def licence_compliance(request: HttpRequest) -> list[Any]:
    """Per licensed product: seats owned, assigned, machines with it installed, and whether that is
    compliant, over-deployed or under-used."""
    user = current_user(request)
    _require_staff(user)
    return licences.compliance(user)


@router.post("/licences", response={201: LicenceOut})
def create_licence(request: HttpRequest, payload: LicenceCreate) -> Status[Any]:
    """A licence asset with its terms (desk staff). The key is stored encrypted."""
    user = current_user(request)
    data = payload.model_dump(exclude_unset=True)
    terms: dict[str, Any] = {
        k: data.pop(k) for k in ("product", "publisher", "seats", "key", "expires_on") if k in data
    }
    terms.setdefault("product", payload.product)
    terms.setdefault("seats", payload.seats)
    asset = licences.create_licence(user, _values(data), terms)
    return Status(201, licences.get_licence_for(user, asset.pk))


@router.get("/licences/{int:asset_id}", response=LicenceOut, url_name="licence_detail")
def get_licence(request: HttpRequest, asset_id: int) -> Licence:
    return licences.get_licence_for(current_user(request), asset_id)


@router.patch("/licences/{int:asset_id}", response=LicenceOut)
def update_licence(
    request: HttpRequest, asset_id: int, payload: LicencePatch, if_match: str | None = Header(None, alias="If-Match")
) -> Licence:
    """Change the terms; fewer seats than are given answers 422. The asset's ETag applies."""
    user = current_user(request)
    asset = selectors.get_asset_for(user, asset_id)
    expected = _expected(asset, if_match, payload.version, required=False)
    licences.update_terms(
        user, asset, payload.model_dump(exclude_unset=True, exclude={"version"}), expected_version=expected
    )
    return licences.get_licence_for(user, asset_id)


@router.post("/licences/{int:asset_id}/key", response=KeyOut)
def reveal_licence_key(request: HttpRequest, asset_id: int) -> dict[str, str]:
    """The whole key, for administrators only; every reveal is in the audit log."""
    user = current_user(request)
    return {"key": licences.reveal_key(user, licences.get_licence_for(user, asset_id))}


@router.get("/licences/{int:asset_id}/seats", response=SeatPage)
def list_seats(request: HttpRequest, asset_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    licence = licences.get_licence_for(current_user(request), asset_id)
    items, cursor = keyset_page(licences.seats_of(licence), order=("id",), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/licences/{int:asset_id}/seats", response={201: SeatOut})
def assign_seat(request: HttpRequest, asset_id: int, payload: SeatIn) -> Status[Any]:
    """Give a seat to a person (``user``) or a machine (``machine``). Every seat used answers 409."""
    user = current_user(request)
    licence = licences.get_licence_for(user, asset_id)
    holder = None if payload.user is None else lookups.user_by_id(payload.user)
    machine = None if payload.machine is None else selectors.get_asset_for(user, payload.machine)
    seat = licences.assign_seat(user, licence.asset, user=holder, machine=machine)
    return Status(201, seat)


@router.delete("/licences/{int:asset_id}/seats/{int:seat_id}", response={204: None})
def release_seat(request: HttpRequest, asset_id: int, seat_id: int) -> Status[Any]:
    user = current_user(request)
    licence = licences.get_licence_for(user, asset_id)
    licences.release_seat(user, licences.get_seat_for(licence, seat_id))
    return Status(204, None)
