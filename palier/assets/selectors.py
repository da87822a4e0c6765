"""Reads on assets, scoped by ``permissions.visible``. The pages, the API and the exports all
filter through ``AssetFilters``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound
from palier.lib.text import normalise
from palier.people.models import User
from palier.tickets.models import Ticket
from palier.tickets.selectors import tickets_visible_to

from . import permissions
from .models import Asset, AssetEvent, AssetType, Location, Relationship, Supplier

PAGE_SIZE = 50
# between the names of a location's path: "Lyon › Bâtiment A › 2e étage"
LOCATION_SEPARATOR = " › "


def assets_visible_to(user: User) -> QuerySet[Asset]:
    return Asset.objects.filter(permissions.visible(user))


def get_asset_for(user: User, pk: int | str) -> Asset:
    """The asset, or NotFound when it does not exist or ``user`` may not see it."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Asset not found.")) from None
    asset = (
        assets_visible_to(user)
        .select_related("type", "assigned_to", "location", "organisation", "department", "owner_group", "supplier")
        .filter(pk=key)
        .first()
    )
    if asset is None:
        raise NotFound(_("Asset not found."))
    return asset


def get_asset_by_tag_for(user: User, tag: str) -> Asset:
    asset = assets_visible_to(user).select_related("type").filter(tag__iexact=tag.strip()).first()
    if asset is None:
        raise NotFound(_("Asset not found."))
    return asset


@dataclass(frozen=True)
class AssetFilters:
    """What a list of assets is narrowed by; the same for pages, API and exports."""

    q: str = ""
    type: str = ""  # type slug
    family: str = ""
    status: tuple[str, ...] = ()
    assigned_to: int | None = None
    location: int | None = None  # this location and every place under it
    organisation: int | None = None
    owner_group: int | None = None
    unowned: bool = False  # no owner group and nobody assigned
    warranty_before: date | None = None
    inventory_before: date | None = None  # stale: no inventory report since

    def apply(self, qs: QuerySet[Asset]) -> QuerySet[Asset]:
        if self.q:
            for word in normalise(self.q).split()[:8]:
                qs = qs.filter(search_text__contains=word)
        exact = {
            "type__slug": self.type or None,
            "type__family": self.family or None,
            "status__in": self.status or None,
            "assigned_to_id": self.assigned_to,
            "organisation_id": self.organisation,
            "owner_group_id": self.owner_group,
            "warranty_end__lt": self.warranty_before,
        }
        qs = qs.filter(**{key: value for key, value in exact.items() if value is not None})
        if self.location is not None:
            place = Location.objects.filter(pk=self.location).values_list("path", flat=True).first()
            if place is None:
                return qs.none()
            qs = qs.filter(Q(location__path=place) | Q(location__path__startswith=place + LOCATION_SEPARATOR))
        if self.unowned:
            qs = qs.filter(owner_group__isnull=True, assigned_to__isnull=True)
        if self.inventory_before is not None:
            qs = qs.filter(type__inventoried=True).filter(
                Q(last_inventory_at__lt=self.inventory_before) | Q(last_inventory_at__isnull=True)
            )
        return qs


def filtered(user: User, filters: AssetFilters) -> QuerySet[Asset]:
    return filters.apply(assets_visible_to(user))


@dataclass
class AssetPage:
    items: list[Asset]
    next_after: str | None


def asset_page(user: User, filters: AssetFilters, *, after: str | None = None, limit: int = PAGE_SIZE) -> AssetPage:
    """One page of assets in tag order, keyset-paginated by tag (unique)."""
    qs = filtered(user, filters)
    if after:
        qs = qs.filter(tag__gt=after)
    rows = list(qs.select_related("type", "assigned_to", "location", "owner_group").order_by("tag")[: limit + 1])
    return AssetPage(items=rows[:limit], next_after=rows[limit - 1].tag if len(rows) > limit else None)


def timeline(asset: Asset, *, limit: int = 200) -> list[AssetEvent]:
    return list(asset.events.select_related("actor").order_by("-at", "-id")[:limit])


def active_types() -> list[AssetType]:
    return list(AssetType.objects.filter(active=True))


def assets_of(user: User, person: User) -> QuerySet[Asset]:
    """The assets ``person`` uses, as ``user`` may see them."""
    return assets_visible_to(user).filter(assigned_to_id=person.pk).exclude(status=Asset.Status.DISPOSED)


# --- reads of the API, the licences pages and the import (docs/assets.md, "API") -------------------


def type_by_slug(slug: str) -> AssetType | None:
    return AssetType.objects.filter(slug=slug.strip()).first()


def all_types() -> QuerySet[AssetType]:
    return AssetType.objects.all()


def find_location(pk: int) -> Location | None:
    return Location.objects.filter(pk=pk).first()


def location_by_path(path: str) -> Location | None:
    return Location.objects.filter(path=path.strip()).first()


def all_locations() -> QuerySet[Location]:
    return Location.objects.all()


def find_supplier(pk: int) -> Supplier | None:
    return Supplier.objects.filter(pk=pk).first()


def supplier_by_name(name: str) -> Supplier | None:
    return Supplier.objects.filter(name__iexact=name.strip()).first()


def asset_for_import(tag: str, serial: str) -> Asset | None:
    """The asset an import row names: by tag, else by serial (when exactly one asset has it)."""
    if tag:
        found = Asset.objects.select_related("type").filter(tag__iexact=tag).first()
        if found is not None or not serial:
            return found
    if serial:
        matches = list(Asset.objects.select_related("type").filter(serial=serial)[:2])
        if len(matches) == 1:
            return matches[0]
    return None


def events_of(asset: Asset) -> QuerySet[AssetEvent]:
    return asset.events.select_related("actor")


def relationships_of(asset: Asset) -> QuerySet[Relationship]:
    """Both ways: what ``asset`` needs and what needs it, with the other item."""
    return Relationship.objects.filter(Q(source=asset) | Q(target=asset)).select_related("source", "target")


def get_relationship_for(asset: Asset, pk: int) -> Relationship:
    found = relationships_of(asset).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("Relationship not found."))
    return found


def visible_among(user: User, ids: list[int]) -> dict[int, Asset]:
    """The assets among ``ids`` that ``user`` may see, by id (one query)."""
    return {a.pk: a for a in assets_visible_to(user).select_related("type").filter(pk__in=ids)}


def tickets_of(user: User, asset: Asset) -> QuerySet[Ticket]:
    """The tickets linked to ``asset`` that ``user`` may see, newest first."""
    return tickets_visible_to(user).filter(asset_links__asset=asset)


def assets_of_ticket(user: User, ticket: Ticket) -> QuerySet[Asset]:
    return assets_visible_to(user).filter(ticket_links__ticket=ticket).select_related("type")


def find_type(pk: int) -> AssetType | None:
    return AssetType.objects.filter(pk=pk).first()
