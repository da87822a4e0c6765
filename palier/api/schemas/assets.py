"""Assets, types, locations, relationships, licences, seats and ticket links (docs/assets.md, "API")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from palier.api.schemas.common import GroupRef, Input, OrganisationRef, UserRef
from palier.assets import licences
from palier.assets.models import Licence

StatusName = Literal["ordered", "in_stock", "deployed", "in_repair", "retired", "disposed"]
RelationshipKind = Literal[
    "runs_on", "hosted_on", "depends_on", "connects_to", "part_of", "installed_on", "licensed_to"
]
Money = str | int | float

# --- references -----------------------------------------------------------------------------------


class TypeRef(Schema):
    id: int
    slug: str
    name: str
    family: str


class LocationRef(Schema):
    id: int
    path: str


class SupplierRef(Schema):
    id: int
    name: str


class AssetRef(Schema):
    id: int
    tag: str
    name: str
    status: str


# --- assets -------------------------------------------------------------------------------------


class AssetOut(Schema):
    id: int
    tag: str
    name: str
    type: TypeRef
    status: StatusName
    serial: str
    manufacturer: str
    model: str
    assigned_to: UserRef | None
    location: LocationRef | None
    organisation: OrganisationRef | None
    owner_group: GroupRef | None
    supplier: SupplierRef | None
    purchase_date: date | None
    purchase_cost: str | None
    warranty_end: date | None
    notes: str
    criticality: str
    attributes: dict[str, Any]
    last_inventory_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_purchase_cost(obj: Any) -> str | None:
        return None if obj.purchase_cost is None else str(obj.purchase_cost)


class AssetPage(Schema):
    items: list[AssetOut]
    next_cursor: str | None


class _AssetFields(Input):
    serial: str | None = Field(None, max_length=120)
    manufacturer: str | None = Field(None, max_length=120)
    model: str | None = Field(None, max_length=200)
    assigned_to: int | None = Field(None, description="A user id; null clears it.")
    location: int | None = Field(None, description="A location id; null clears it.")
    organisation: int | None = None
    department: int | None = None
    owner_group: int | None = Field(None, description="The support group responsible for it.")
    supplier: int | None = None
    purchase_date: str | None = Field(None, description="YYYY-MM-DD.", max_length=10)
    purchase_cost: Money | None = None
    warranty_end: str | None = Field(None, description="YYYY-MM-DD.", max_length=10)
    notes: str | None = Field(None, max_length=20_000)
    criticality: Literal["", "low", "medium", "high", "critical"] | None = None
    attributes: dict[str, Any] | None = Field(None, description="The values of the type's own fields, by key.")


class AssetCreate(_AssetFields):
    tag: str = Field(max_length=64)
    type: str = Field(max_length=60, description="The type's identifier (slug), e.g. laptop.")
    name: str = Field(max_length=200)
    status: StatusName = "in_stock"


class AssetPatch(_AssetFields):
    tag: str | None = Field(None, max_length=64)
    type: str | None = Field(None, max_length=60)
    name: str | None = Field(None, max_length=200)
    version: int | None = Field(None, description="The version you saw; or send it as If-Match.")

    @field_validator("tag", "type", "name", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_("This field cannot be null."))
        return value


class StatusIn(Input):
    status: StatusName
    note: str = Field("", max_length=1000)
    version: int | None = None


class AssetEventOut(Schema):
    id: int
    kind: str
    actor: UserRef | None
    data: dict[str, Any]
    at: datetime


class AssetEventPage(Schema):
    items: list[AssetEventOut]
    next_cursor: str | None


# --- types and locations --------------------------------------------------------------------------


class AssetTypeOut(Schema):
    id: int
    slug: str
    name: str
    name_fr: str
    name_en: str
    family: str
    inventoried: bool
    fields: list[dict[str, Any]]
    active: bool


class LocationOut(Schema):
    id: int
    name: str
    kind: str
    path: str
    depth: int
    parent_id: int | None
    address: str


class LocationPage(Schema):
    items: list[LocationOut]
    next_cursor: str | None


# --- relationships, impact --------------------------------------------------------------------------


class RelationshipOut(Schema):
    id: int
    kind: str
    direction: Literal["needs", "needed_by"] = Field(
        description="needs: this asset needs the other one; needed_by: the other one needs this asset."
    )
    other: AssetRef


class RelationshipIn(Input):
    kind: RelationshipKind
    target: int = Field(description="The asset this one needs (e.g. the server it runs on).")


class ImpactNode(Schema):
    id: int
    tag: str
    name: str
    status: str
    type: str
    level: int


class ImpactEdge(Schema):
    source: int
    target: int
    kind: str


class ImpactOut(Schema):
    start: int
    direction: str
    depth: int
    nodes: list[ImpactNode]
    edges: list[ImpactEdge]
    truncated: bool
    hidden: int = Field(description="Items reached that you may not see (counted, not shown).")


# --- licences -------------------------------------------------------------------------------------


class LicenceOut(Schema):
    asset: AssetRef
    product: str
    publisher: str
    seats: int
    used: int
    key: str = Field(description="Masked: its last characters at most.")
    expires_on: date | None
    over_allocated: bool

    @staticmethod
    def resolve_key(obj: Licence) -> str:
        return licences.masked_key(obj)

    @staticmethod
    def resolve_used(obj: Licence) -> int:
        return int(getattr(obj, "used", 0))

    @staticmethod
    def resolve_over_allocated(obj: Licence) -> bool:
        return int(getattr(obj, "used", 0)) > obj.seats


class LicencePage(Schema):
    items: list[LicenceOut]
    next_cursor: str | None


class LicenceCreate(Input):
    tag: str = Field(max_length=64)
    name: str = Field(max_length=200)
    type: str | None = Field(None, max_length=60, description="A licence type; defaults to the starter one.")
    product: str = Field(max_length=255, description="The software it covers, as installed (name prefix).")
    publisher: str = Field("", max_length=255)
    seats: int = Field(1, ge=1, le=licences.MAX_SEATS)
    key: str = Field("", max_length=2000, description="Stored encrypted, never shown again in full.")
    expires_on: str | None = Field(None, max_length=10, description="YYYY-MM-DD.")
    owner_group: int | None = None
    organisation: int | None = None
    supplier: int | None = None
    purchase_date: str | None = Field(None, max_length=10)
    purchase_cost: Money | None = None
    notes: str = Field("", max_length=20_000)


class LicencePatch(Input):
    product: str | None = Field(None, max_length=255)
    publisher: str | None = Field(None, max_length=255)
    seats: int | None = Field(None, ge=1, le=licences.MAX_SEATS)
    key: str | None = Field(None, max_length=2000)
    expires_on: str | None = Field(None, max_length=10)
    version: int | None = None


class KeyOut(Schema):
    key: str


class SeatIn(Input):
    user: int | None = Field(None, description="A person's id; or give machine.")
    machine: int | None = Field(None, description="A machine asset's id; or give user.")


class SeatOut(Schema):
    id: int
    user: UserRef | None
    machine: AssetRef | None
    assigned_at: datetime


class SeatPage(Schema):
    items: list[SeatOut]
    next_cursor: str | None


class ComplianceOut(Schema):
    product: str
    licences: int
    owned: int
    assigned: int
    installed: int
    state: Literal["compliant", "over_deployed", "under_used"]


# --- ticket links ---------------------------------------------------------------------------------


class TicketRef(Schema):
    id: int
    reference: str
    subject: str
    status: str


class TicketRefPage(Schema):
    items: list[TicketRef]
    next_cursor: str | None


class TicketAssetIn(Input):
    asset: int


class AssetTicketIn(Input):
    ticket: int
