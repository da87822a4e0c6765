"""Asset types and locations written through the API (administrators): create and change.
Reads are in ``api/assets.py``; the rules (names, fields, the tree's paths) are the catalogue
services' (``assets/services/types.py``, ``locations.py``), shared with the administration pages.

The operations join ``api/assets.py``'s router (one path, several methods, must be one router):
``api.py`` imports this module once that router is added."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Status

from palier.api import lookups
from palier.api.assets import router
from palier.api.auth import current_user
from palier.api.schemas.assets import AssetTypeOut, LocationOut
from palier.api.schemas.common import Input
from palier.assets import selectors
from palier.assets.models import AssetType, Location
from palier.assets.services import locations, types

Family = Literal["hardware", "software", "licence", "application", "service"]
PlaceKind = Literal["site", "building", "floor", "room"]


class TypeCreate(Input):
    slug: str = Field("", max_length=60, description="Defaults to the English name, slugified.")
    name_fr: str = Field(max_length=120)
    name_en: str = Field(max_length=120)
    family: Family = "hardware"
    inventoried: bool = False
    fields: list[dict[str, Any]] = Field(
        default_factory=list, description='[{"key", "label_fr", "label_en", "type", "choices", "required"}]'
    )


class TypePatch(Input):
    name_fr: str | None = Field(None, max_length=120)
    name_en: str | None = Field(None, max_length=120)
    family: Family | None = None
    inventoried: bool | None = None
    active: bool | None = None
    fields: list[dict[str, Any]] | None = None


class LocationCreate(Input):
    name: str = Field(max_length=120)
    kind: PlaceKind = "site"
    parent: int | None = Field(None, description="The location it is in; none for a site.")
    address: str = Field("", max_length=300)
    organisation: int | None = None


class LocationPatch(Input):
    name: str | None = Field(None, max_length=120)
    kind: PlaceKind | None = None
    parent: int | None = Field(None, description="Moves it (and everything under it); null makes it a root.")
    address: str | None = Field(None, max_length=300)
    organisation: int | None = None


def _type(pk: int) -> AssetType:
    return lookups.required(selectors.find_type(pk), "id")


def _place(pk: int | None, field: str) -> Location | None:
    return None if pk is None else lookups.required(selectors.find_location(pk), field)


@router.post("/asset-types", response={201: AssetTypeOut})
def create_type(request: HttpRequest, payload: TypeCreate) -> Status[Any]:
    """A new asset type with its own fields (administrators)."""
    created = types.create_type(by=current_user(request), **payload.model_dump())
    return Status(201, created)


@router.patch("/asset-types/{int:type_id}", response=AssetTypeOut)
def update_type(request: HttpRequest, type_id: int, payload: TypePatch) -> AssetType:
    """Change a type's names, family, fields, or make it inactive (administrators)."""
    current = _type(type_id)
    values = {
        "name_fr": current.name_fr,
        "name_en": current.name_en,
        "family": current.family,
        "fields": current.fields,
        "active": current.active,
        "inventoried": current.inventoried,
        **payload.model_dump(exclude_unset=True),
    }
    return types.update_type(current, by=current_user(request), **values)


@router.post("/locations", response={201: LocationOut})
def create_location(request: HttpRequest, payload: LocationCreate) -> Status[Any]:
    """A new place (administrators); its path is its parent's path and its name."""
    data = payload.model_dump()
    data["parent"] = _place(data["parent"], "parent")
    if data["organisation"] is not None:
        data["organisation"] = lookups.organisation_by_id(data["organisation"])
    return Status(201, locations.create_location(by=current_user(request), **data))


@router.patch("/locations/{int:location_id}", response=LocationOut)
def update_location(request: HttpRequest, location_id: int, payload: LocationPatch) -> Location:
    """Rename or move a place (administrators): the paths of every place under it follow."""
    current = lookups.required(selectors.find_location(location_id), "id")
    given = payload.model_dump(exclude_unset=True)
    values: dict[str, Any] = {
        "name": given.get("name", current.name),
        "kind": given.get("kind", current.kind),
        "parent": _place(given["parent"], "parent") if "parent" in given else current.parent,
        "address": given.get("address", current.address),
        "organisation": current.organisation,
    }
    if "organisation" in given:
        values["organisation"] = (
            None if given["organisation"] is None else lookups.organisation_by_id(given["organisation"])
        )
    return locations.update_location(current, by=current_user(request), **values)


@router.delete("/locations/{int:location_id}", response={204: None})
def delete_location(request: HttpRequest, location_id: int) -> Status[None]:
    """Delete an empty place (administrators): one that still holds places or assets answers 422
    and stays."""
    location = lookups.required(selectors.find_location(location_id), "id")
    locations.delete_location(location, by=current_user(request))
    return Status(204, None)
