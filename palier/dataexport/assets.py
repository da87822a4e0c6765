"""Assets in a data export (docs/data-export.md, "Assets"): what each kind's file holds, and how
an import loads it.

An organisation's export holds its assets (``Asset.organisation``) and what hangs on them:
relationships with both ends among them, installations, licences (terms, never the key), seats,
links to its tickets, history events. Asset types, suppliers and locations are the desk's
reference data and go whole, as categories do. People named by these rows (users of an asset, a
seat, the author of an event) join the export's people.

An import links types by slug, suppliers by name, locations by path and assets by tag to those
already on the desk (and leaves those as they are); what hangs on an asset already there is not
loaded, so nothing is mixed into its history.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from palier.assets.models import (
    Asset,
    AssetEvent,
    AssetType,
    Installation,
    Licence,
    Location,
    Relationship,
    SeatAssignment,
    Supplier,
    TicketAsset,
)

if TYPE_CHECKING:
    from palier.dataexport.importing import _Loader
    from palier.dataexport.services import _Scope

MODELS = {
    "asset_types": AssetType,
    "suppliers": Supplier,
    "locations": Location,
    "assets": Asset,
    "relationships": Relationship,
    "installations": Installation,
    "licences": Licence,
    "seats": SeatAssignment,
    "ticket_assets": TicketAsset,
    "asset_events": AssetEvent,
}

REFERENCES: dict[str, dict[str, str]] = {
    "asset_types": {},
    "suppliers": {},
    "locations": {"parent_id": "locations", "organisation_id": "organisations"},
    "assets": {
        "type_id": "asset_types",
        "assigned_to_id": "users",
        "location_id": "locations",
        "organisation_id": "organisations",
        "department_id": "departments",
        "owner_group_id": "groups",
        "supplier_id": "suppliers",
    },
    "relationships": {"source_id": "assets", "target_id": "assets", "created_by_id": "users"},
    "installations": {"asset_id": "assets"},
    "licences": {"asset_id": "assets"},
    "seats": {"licence_id": "licences", "user_id": "users", "machine_id": "assets", "assigned_by_id": "users"},
    "ticket_assets": {"ticket_id": "tickets", "asset_id": "assets", "added_by_id": "users"},
    "asset_events": {"asset_id": "assets", "actor_id": "users"},
}


# --- export ---------------------------------------------------------------------------------------------


def _fields(kind: str) -> tuple[str, ...]:
    from palier.dataexport.schema import FIELDS

    return FIELDS[kind]


def _rows(queryset: QuerySet[Any], kind: str) -> Iterator[dict[str, Any]]:
    yield from queryset.order_by("id").values(*_fields(kind)).iterator(chunk_size=2000)


def _assets(scope: _Scope) -> QuerySet[Asset]:
    rows = Asset.objects.filter(created_at__lte=scope.as_of)
    if scope.organisation is not None:
        rows = rows.filter(organisation=scope.organisation)
    return rows


def asset_types(scope: _Scope) -> Iterator[dict[str, Any]]:
    return _rows(AssetType.objects.all(), "asset_types")


def suppliers(scope: _Scope) -> Iterator[dict[str, Any]]:
    return _rows(Supplier.objects.all(), "suppliers")


def locations(scope: _Scope) -> Iterator[dict[str, Any]]:
    return _rows(Location.objects.all(), "locations")


def assets(scope: _Scope) -> Iterator[dict[str, Any]]:
    for row in _rows(_assets(scope), "assets"):
        scope.name(row["assigned_to_id"])
        if row["owner_group_id"] is not None:
            scope.group_ids.add(row["owner_group_id"])
        yield row


def relationships(scope: _Scope) -> Iterator[dict[str, Any]]:
    mine = _assets(scope).values("pk")
    for row in _rows(Relationship.objects.filter(source__in=mine, target__in=mine), "relationships"):
        scope.name(row["created_by_id"])
        yield row


def installations(scope: _Scope) -> Iterator[dict[str, Any]]:
    return _rows(Installation.objects.filter(asset__in=_assets(scope).values("pk")), "installations")


def licences(scope: _Scope) -> Iterator[dict[str, Any]]:
    return _rows(Licence.objects.filter(asset__in=_assets(scope).values("pk")), "licences")


def seats(scope: _Scope) -> Iterator[dict[str, Any]]:
    mine = _assets(scope).values("pk")
    rows = SeatAssignment.objects.filter(licence__asset__in=mine).filter(Q(machine__isnull=True) | Q(machine__in=mine))
    for row in _rows(rows, "seats"):
        scope.name(row["user_id"], row["assigned_by_id"])
        yield row


def ticket_assets(scope: _Scope) -> Iterator[dict[str, Any]]:
    from palier.dataexport.services import _tickets

    tickets = _tickets(scope).values("pk")
    rows = TicketAsset.objects.filter(asset__in=_assets(scope).values("pk"), ticket__in=tickets)
    for row in _rows(rows, "ticket_assets"):
        scope.name(row["added_by_id"])
        yield row


def asset_events(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = AssetEvent.objects.filter(asset__in=_assets(scope).values("pk"), at__lte=scope.as_of)
    for row in _rows(rows, "asset_events"):
        scope.name(row["actor_id"])
        yield row


READERS = {
    "asset_types": asset_types,
    "suppliers": suppliers,
    "locations": locations,
    "assets": assets,
    "relationships": relationships,
    "installations": installations,
    "licences": licences,
    "seats": seats,
    "ticket_assets": ticket_assets,
    "asset_events": asset_events,
}


# --- checks -------------------------------------------------------------------------------------------


def natural_key(kind: str, row: dict[str, Any]) -> tuple[Any, str] | None:
    """What must be unique in the archive for a row of ``kind`` (and how to name it), or None."""
    keys: dict[str, tuple[Any, str]] = {
        "asset_types": (row.get("slug"), f"the type {row.get('slug')!r}"),
        "suppliers": (row.get("name"), f"the supplier {row.get('name')!r}"),
        "locations": (row.get("path"), f"the location {row.get('path')!r}"),
        "assets": (str(row.get("tag", "")).lower(), f"the tag {row.get('tag')!r}"),
        "relationships": ((row.get("source_id"), row.get("target_id"), row.get("kind")), "the relationship"),
        "installations": ((row.get("asset_id"), row.get("product"), row.get("version")), "the installation"),
        "licences": (row.get("asset_id"), "the licence of an asset"),
        "seats": ((row.get("licence_id"), row.get("user_id"), row.get("machine_id")), "the seat"),
        "ticket_assets": ((row.get("ticket_id"), row.get("asset_id")), "the ticket link"),
    }
    return keys.get(kind)


def row_problem(kind: str, row: dict[str, Any]) -> str | None:
    """A rule of one row the models' fields do not state, or None."""
    if kind == "relationships" and row["source_id"] == row["target_id"]:
        return "an item related to itself"
    if kind == "licences" and row["seats"] < 1:
        return "seats: expected at least 1"
    if kind == "seats" and (row["user_id"] is None) == (row["machine_id"] is None):
        return "a seat goes to a person or to a machine, exactly one"
    return None


def check_date(value: Any) -> str | None:
    if not isinstance(value, str):
        return "expected a date as YYYY-MM-DD"
    try:
        date.fromisoformat(value)
    except ValueError:
        return "expected a date as YYYY-MM-DD"
    return None


def check_decimal(value: Any) -> str | None:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return "expected a number"
    return None if isinstance(value, str | int | float) and number.is_finite() and number >= 0 else "expected a number"


# --- loading ------------------------------------------------------------------------------------------


def load(loader: _Loader) -> None:
    """Every asset kind, in reference order (after people, groups and tickets)."""
    loader._by_natural_key("asset_types", "slug", _asset_type)
    loader._by_natural_key("suppliers", "name", _supplier)
    _locations(loader)
    created = _load_assets(loader)
    _relationships(loader, created)
    _owned(loader, "installations", created, _installation)
    _owned(loader, "licences", created, _licence)
    _seats(loader)
    _ticket_assets(loader)
    _owned(loader, "asset_events", created, _event)


def _asset_type(r: dict[str, Any]) -> AssetType:
    return AssetType(
        slug=r["slug"],
        name_fr=r["name_fr"],
        name_en=r["name_en"],
        family=r["family"],
        inventoried=r["inventoried"],
        fields=r["fields"],
        position=r["position"],
        active=r["active"],
    )


def _supplier(r: dict[str, Any]) -> Supplier:
    return Supplier(name=r["name"], email=r["email"], phone=r["phone"], website=r["website"], notes=r["notes"])


def _locations(loader: _Loader) -> None:
    """Level by level, so each place is created under its (new or linked) parent."""
    rows = [r for batch in loader.rows("locations") for r in batch]
    existing = dict(Location.objects.values_list("path", "pk"))
    for depth in sorted({r["depth"] for r in rows}):
        olds, new = [], []
        for r in (r for r in rows if r["depth"] == depth):
            if r["path"] in existing:
                loader.maps["locations"][r["id"]] = existing[r["path"]]
                loader.linked["locations"] += 1
                continue
            olds.append(r["id"])
            new.append(
                Location(
                    parent_id=loader.ref("locations", r["parent_id"]),
                    name=r["name"],
                    kind=r["kind"],
                    path=r["path"],
                    depth=r["depth"],
                    address=r["address"],
                    organisation_id=loader.ref("organisations", r["organisation_id"]),
                )
            )
        loader._create("locations", olds, new)


def _time(value: str | None) -> Any:
    from palier.dataexport.importing import _parse_time

    return _parse_time(value) if value else None


def _load_assets(loader: _Loader) -> set[int]:
    """The assets; those whose tag is already on the desk are linked. Returns the new ones' ids."""
    created: set[int] = set()
    for batch in loader.rows("assets"):
        tags = {
            t.lower(): pk for t, pk in Asset.objects.filter(tag__in=[r["tag"] for r in batch]).values_list("tag", "pk")
        }
        olds, new = [], []
        for r in batch:
            if r["tag"].lower() in tags:
                loader.maps["assets"][r["id"]] = tags[r["tag"].lower()]
                loader.linked["assets"] += 1
                continue
            asset = Asset(
                tag=r["tag"],
                type_id=loader.need("asset_types", r["type_id"]),
                name=r["name"],
                serial=r["serial"],
                manufacturer=r["manufacturer"],
                model=r["model"],
                status=r["status"],
                assigned_to_id=loader.ref("users", r["assigned_to_id"]),
                location_id=loader.ref("locations", r["location_id"]),
                organisation_id=loader.ref("organisations", r["organisation_id"]),
                department_id=loader.ref("departments", r["department_id"]),
                owner_group_id=loader.ref("groups", r["owner_group_id"]),
                supplier_id=loader.ref("suppliers", r["supplier_id"]),
                purchase_date=r["purchase_date"],
                purchase_cost=r["purchase_cost"],
                warranty_end=r["warranty_end"],
                notes=r["notes"],
                criticality=r["criticality"],
                attributes=r["attributes"],
                inventory=r["inventory"],
                last_inventory_at=_time(r["last_inventory_at"]),
                version=r["version"],
                created_at=_time(r["created_at"]),
                updated_at=_time(r["updated_at"]),
            )
            asset.refresh_search_text()
            olds.append(r["id"])
            new.append(asset)
        loader._create("assets", olds, new)
        created.update(loader.maps["assets"][old] for old in olds)
    return created


def _relationships(loader: _Loader, created: set[int]) -> None:
    for batch in loader.rows("relationships"):
        olds, new = [], []
        for r in batch:
            source, target = loader.need("assets", r["source_id"]), loader.need("assets", r["target_id"])
            if source not in created and target not in created:
                continue  # both already on the desk: their relationships are theirs
            olds.append(r["id"])
            new.append(
                Relationship(
                    source_id=source,
                    target_id=target,
                    kind=r["kind"],
                    created_at=_time(r["created_at"]),
                    created_by_id=loader.ref("users", r["created_by_id"]),
                )
            )
        loader._create("relationships", olds, new)


def _owned(loader: _Loader, kind: str, created: set[int], build: Any) -> None:
    """Rows of one asset each: loaded for the assets this import created only."""
    for batch in loader.rows(kind):
        keep = [r for r in batch if loader.need("assets", r["asset_id"]) in created]
        loader._create(kind, [r["id"] for r in keep], [build(loader, r) for r in keep])


def _installation(loader: _Loader, r: dict[str, Any]) -> Installation:
    return Installation(
        asset_id=loader.need("assets", r["asset_id"]),
        name=r["name"],
        publisher=r["publisher"],
        version=r["version"],
        product=r["product"],
        installed_on=r["installed_on"],
        from_inventory=r["from_inventory"],
    )


def _licence(loader: _Loader, r: dict[str, Any]) -> Licence:
    return Licence(
        asset_id=loader.need("assets", r["asset_id"]),
        product=r["product"],
        publisher=r["publisher"],
        seats=r["seats"],
        expires_on=r["expires_on"],
    )


def _event(loader: _Loader, r: dict[str, Any]) -> AssetEvent:
    data = dict(r["data"])
    if isinstance(data.get("ticket"), int):
        data["ticket"] = loader.maps["tickets"].get(data["ticket"])
    return AssetEvent(
        asset_id=loader.need("assets", r["asset_id"]),
        kind=r["kind"],
        actor_id=loader.ref("users", r["actor_id"]),
        data=data,
        at=_time(r["at"]),
    )


def _seats(loader: _Loader) -> None:
    for batch in loader.rows("seats"):
        keep = [r for r in batch if r["licence_id"] in loader.maps["licences"]]
        new = [
            SeatAssignment(
                licence_id=loader.need("licences", r["licence_id"]),
                user_id=loader.ref("users", r["user_id"]),
                machine_id=loader.ref("assets", r["machine_id"]),
                assigned_at=_time(r["assigned_at"]),
                assigned_by_id=loader.ref("users", r["assigned_by_id"]),
            )
            for r in keep
        ]
        loader._create("seats", [r["id"] for r in keep], new)


def _ticket_assets(loader: _Loader) -> None:
    for batch in loader.rows("ticket_assets"):
        links = [
            TicketAsset(
                ticket_id=loader.need("tickets", r["ticket_id"]),
                asset_id=loader.need("assets", r["asset_id"]),
                added_at=_time(r["added_at"]),
                added_by_id=loader.ref("users", r["added_by_id"]),
            )
            for r in batch
        ]
        loader._create("ticket_assets", [r["id"] for r in batch], links)
