"""Asset administration through the API: suppliers, the spreadsheet import, inventory tokens and
the inventory reports received (docs/assets.md and docs/inventory.md, "API"). Types and
locations are in ``api/assets_catalogue.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.resources import PageQuery, Resource, admins_only, mount
from palier.api.schemas.common import Input
from palier.assets import importing
from palier.assets import selectors as asset_selectors
from palier.assets.inventory import reports as report_services
from palier.assets.inventory import selectors as inventory_selectors
from palier.assets.inventory import tokens as token_services
from palier.assets.models import Supplier
from palier.assets.services import suppliers
from palier.people.models import User

router = Router()


# --- suppliers ------------------------------------------------------------------------------------------


class SupplierOut(Schema):
    id: int
    name: str
    email: str
    phone: str
    website: str
    notes: str


class SupplierIn(Input):
    name: str = Field(max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=50)
    website: str = Field("", max_length=200)
    notes: str = Field("", max_length=10_000)


class SupplierPatch(Input):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=50)
    website: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=10_000)


def _update_supplier(user: User, supplier: Supplier, data: dict[str, Any]) -> Supplier:
    merged = {name: getattr(supplier, name) for name in suppliers.FIELDS} | data
    return suppliers.update_supplier(supplier, by=user, **merged)


SUPPLIER = Resource(
    name="supplier",
    path="/suppliers",
    tag="assets",
    about="Who sells and maintains the assets (names unique, case ignored).",
    out=SupplierOut,
    listing=lambda user, filters: asset_selectors.suppliers(),
    fetch=lambda user, pk: asset_selectors.get_supplier(pk),
    create_in=SupplierIn,
    update_in=SupplierPatch,
    create=lambda user, data: suppliers.create_supplier(by=user, **data),
    update=_update_supplier,
)


# --- inventory tokens -------------------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it.")
    organisation: int | None = Field(validation_alias="organisation_id")
    location: int | None = Field(validation_alias="location_id")
    owner_group: int | None = Field(validation_alias="owner_group_id")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    secret: str = Field(description="Shown once, now: Palier keeps only its digest.")


class TokenIn(Input):
    name: str = Field(max_length=100)
    organisation: int | None = None
    location: int | None = None
    owner_group: int | None = None
    days: int | None = Field(None, ge=1, le=token_services.MAX_DAYS)


def _revoke(user: User, token: Any) -> None:
    token_services.revoke_token(token, by=user)


TOKEN = Resource(
    name="inventory_token",
    path="/inventory-tokens",
    tag="inventory",
    about="The tokens inventory agents send their reports with. Deleting one revokes it (kept, refused from then on).",
    out=TokenOut,
    order=("-id",),
    listing=lambda user, filters: inventory_selectors.tokens(),
    fetch=lambda user, pk: inventory_selectors.get_token_for_admin(pk),
    delete=lambda user, token: _revoke(user, token),
    delete_verb="Revoke",
)


@router.post("/inventory-tokens", response={201: TokenCreated}, summary="Issue an inventory token", tags=["inventory"])
def create_inventory_token(request: HttpRequest, payload: TokenIn, response: HttpResponse) -> Status[Any]:
    """The new token with its secret, shown this once: store it in the agents' configuration."""
    user = current_user(request)
    if not admins_only(user):
        raise Problem(403, _("Only administrators manage inventory tokens."))
    data = payload.model_dump()
    place = data.pop("location")
    if place is not None:
        data["location"] = lookups.required(asset_selectors.find_location(place), "location")
    if data["organisation"] is not None:
        data["organisation"] = lookups.organisation_by_id(data["organisation"])
    if data["owner_group"] is not None:
        data["owner_group"] = lookups.group_by_id(data["owner_group"], field="owner_group")
    issued = token_services.create_token(by=user, **data)
    response["Location"] = reverse("api:inventory_token_detail", args=[issued.token.pk])
    token: Any = issued.token
    token.secret = issued.secret  # on this answer only
    return Status(201, token)


# --- inventory reports ------------------------------------------------------------------------------------


class ReportOut(Schema):
    id: int
    received_at: datetime
    state: str
    device_id: str
    item_type: str
    partial: bool
    error: str
    token: int | None = Field(validation_alias="token_id")
    asset: int | None = Field(validation_alias="asset_id")
    processed_at: datetime | None


class ReportQuery(PageQuery):
    state: Literal["received", "applied", "unchanged", "rejected", "held"] | None = None


REPORT = Resource(
    name="inventory_report",
    path="/inventory-reports",
    tag="inventory",
    about="The reports the agents sent, newest first, without their bodies (…/raw gives one).",
    out=ReportOut,
    query=ReportQuery,
    order=("-id",),
    listing=lambda user, filters: inventory_selectors.reports(state=filters.get("state") or ""),
    fetch=lambda user, pk: inventory_selectors.get_report_for_admin(pk),
)


@router.get("/inventory-reports/{int:report_id}/raw", summary="The body of an inventory report", tags=["inventory"])
def inventory_report_raw(request: HttpRequest, report_id: int) -> HttpResponse:
    """The report as the agent sent it (JSON), for an administrator looking into a refusal; each
    download is in the audit log."""
    report = report_services.raw_for_admin(report_id, by=current_user(request))
    response = HttpResponse(bytes(report.body), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="inventory-report-{report.pk}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the spreadsheet import ------------------------------------------------------------------------------


class ImportRowOut(Schema):
    line: int
    key: str
    action: str
    errors: list[str]


class ImportOut(Schema):
    kind: str
    mode: str
    dry_run: bool
    written: bool
    counts: dict[str, int]
    rows: list[ImportRowOut]


@router.post("/assets/import", response=ImportOut, summary="Import assets, licences or locations", tags=["assets"])
def import_assets(
    request: HttpRequest,
    file: File[UploadedFile],
    kind: Form[Literal["assets", "locations", "licences"]] = "assets",
    mode: Form[Literal["all-or-nothing", "per-row"]] = "all-or-nothing",
    dry_run: Form[bool] = True,
) -> dict[str, Any]:
    """The same CSV or XLSX file as the import page (multipart, field ``file``). ``dry_run``
    (the default) checks every row and writes nothing; then send it again with ``dry_run=false``.
    ``all-or-nothing`` writes nothing when a row is wrong; ``per-row`` writes the good rows. Each
    row's outcome (created, updated, unchanged, error, not written) comes back with its messages.
    A file refused as a whole (unreadable, unknown columns, too large) answers 422."""
    user = current_user(request)
    if not admins_only(user):
        raise Problem(403, _("Only administrators import assets."))
    data = file.read(importing.MAX_BYTES + 1)
    try:
        report = importing.run_import(data, kind=kind, mode=mode, dry_run=dry_run, actor=user)
    except importing.ImportRefused as exc:
        raise Problem(422, str(exc), errors={"file": [str(exc)]}) from exc
    actions = ("created", "updated", "unchanged", "error", "not written")
    return {
        "kind": report.kind,
        "mode": report.mode,
        "dry_run": report.dry_run,
        "written": report.written,
        "counts": {action: report.count(action) for action in actions},
        "rows": report.rows,
    }


RESOURCES: tuple[Resource, ...] = ()  # mounted on this module's router, beside its own endpoints
for _resource in (SUPPLIER, TOKEN, REPORT):
    mount(router, _resource)
