"""Reads on assets, scoped by ``permissions.visible``. The pages, the API and the exports all
filter through ``AssetFilters``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound
from palier.lib.text import normalise
from palier.people.models import User
from palier.tickets.models import Ticket
from palier.tickets.selectors import tickets_visible_to

from . import permissions
from .models import Asset, AssetEvent, AssetFile, AssetType, Installation, Location, Relationship, Supplier, TicketAsset

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
            # the start of that day where the desk is, as an aware time (the column is a timestamp)
            since = timezone.make_aware(datetime.combine(self.inventory_before, time.min))
            qs = qs.filter(type__inventoried=True).filter(
                Q(last_inventory_at__lt=since) | Q(last_inventory_at__isnull=True)
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


# --- the asset page ----------------------------------------------------------------------------

TICKETS_ON_PAGE = 20
INSTALLATIONS_ON_PAGE = 50


def tickets_of(user: User, asset: Asset, *, limit: int = TICKETS_ON_PAGE) -> list[Ticket]:
    """The tickets linked to ``asset`` that ``user`` may see, newest first."""
    return list(
        tickets_visible_to(user)
        .filter(asset_links__asset_id=asset.pk)
        .only("id", "kind", "number", "subject", "status", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class RelationRow:
    """One relationship seen from an asset's page: the item at the other end, or None when the
    viewer may not see it (a "restricted item")."""

    id: int
    kind: str
    kind_label: str
    other: Asset | None


def relations_of(user: User, asset: Asset) -> tuple[list[RelationRow], list[RelationRow]]:
    """What ``asset`` needs (it is the source) and what needs it (it is the target)."""
    rows = list(
        Relationship.objects.filter(Q(source_id=asset.pk) | Q(target_id=asset.pk))
        .select_related("source__type", "target__type")
        .order_by("kind", "id")[:400]
    )
    others = {r.target_id if r.source_id == asset.pk else r.source_id for r in rows}
    if user.is_admin:
        seen = others
    else:
        seen = set(assets_visible_to(user).filter(pk__in=others).values_list("pk", flat=True)) if others else set()
    needs: list[RelationRow] = []
    needed_by: list[RelationRow] = []
    for r in rows:
        outgoing = r.source_id == asset.pk
        other = r.target if outgoing else r.source
        row = RelationRow(r.pk, r.kind, str(Relationship.Kind(r.kind).label), other if other.pk in seen else None)
        (needs if outgoing else needed_by).append(row)
    return needs, needed_by


def get_relation_for(asset: Asset, relation_id: int) -> Relationship:
    relation = (
        Relationship.objects.select_related("source", "target")
        .filter(Q(source_id=asset.pk) | Q(target_id=asset.pk), pk=relation_id)
        .first()
    )
    if relation is None:
        raise NotFound(_("Relationship not found."))
    return relation


def files_of(asset: Asset) -> list[AssetFile]:
    return list(asset.files.select_related("uploaded_by").order_by("-uploaded_at", "-id")[:100])


def get_file_for(user: User, asset_id: int, file_id: int) -> AssetFile:
    """A file of an asset ``user`` may see, or NotFound."""
    found = AssetFile.objects.filter(pk=file_id, asset__in=assets_visible_to(user).filter(pk=asset_id)).first()
    if found is None:
        raise NotFound(_("File not found."))
    return found


def installations_of(asset: Asset, *, limit: int = INSTALLATIONS_ON_PAGE) -> tuple[int, list[Installation]]:
    """How many software titles the machine has, and the first ``limit`` by name."""
    rows = list(asset.installations.order_by("name", "version")[:limit])
    count = len(rows) if len(rows) < limit else asset.installations.count()
    return count, rows


def export_rows(user: User, filters: AssetFilters) -> Iterator[Asset]:
    """Every asset the filters select, in tag order, read in chunks (the streamed export)."""
    return (
        filtered(user, filters)
        .select_related("type", "assigned_to", "location", "owner_group", "organisation", "supplier")
        .order_by("tag")
        .iterator(chunk_size=1000)
    )


# --- administration: types, locations, suppliers -----------------------------------------------


def all_types() -> list[AssetType]:
    return list(AssetType.objects.all())


def get_type(type_id: int) -> AssetType:
    found = AssetType.objects.filter(pk=type_id).first()
    if found is None:
        raise NotFound(_("Asset type not found."))
    return found


def type_by_slug(slug: str) -> AssetType | None:
    return AssetType.objects.filter(slug=slug, active=True).first()


def locations() -> QuerySet[Location]:
    """Every location in tree order (by path), for lists and choices."""
    return Location.objects.order_by("path")


def location_tree() -> list[Location]:
    """Every location in tree order, with how many assets and places each holds."""
    return list(
        Location.objects.annotate(
            asset_count=Count("assets", distinct=True), child_count=Count("children", distinct=True)
        ).order_by("path")
    )


def get_location(location_id: int) -> Location:
    found = Location.objects.filter(pk=location_id).first()
    if found is None:
        raise NotFound(_("Location not found."))
    return found


def suppliers() -> QuerySet[Supplier]:
    return Supplier.objects.order_by("name")


def get_supplier(supplier_id: int) -> Supplier:
    found = Supplier.objects.filter(pk=supplier_id).first()
    if found is None:
        raise NotFound(_("Supplier not found."))
    return found


# --- assets on the ticket page (the "tickets" part of docs/assets.md) ------------------------------------

CARD_LIMIT = 20
WARRANTY_SOON_DAYS = 30


def requester_assets_card(viewer: User, requester: User | None, *, today: date | None = None) -> list[Asset]:
    """The requester's assets (not disposed) as ``viewer`` may see them, each with ``open_tickets``
    (its open tickets) and ``warranty_state`` ("past", "soon" within 30 days, or ""), in ONE
    query: the count is a correlated subquery."""
    if requester is None:
        return []
    open_count = (
        TicketAsset.objects.filter(asset_id=OuterRef("pk"), ticket__status__in=Ticket.OPEN_STATUSES)
        .order_by()
        .values("asset_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows: list[Asset] = list(
        assets_of(viewer, requester)
        .select_related("type")
        .annotate(open_tickets=Coalesce(Subquery(open_count, output_field=IntegerField()), 0))
        .order_by("tag")[:CARD_LIMIT]
    )
    today = today or timezone.localdate()
    for asset in rows:
        asset.warranty_state = _warranty_state(asset.warranty_end, today)  # type: ignore[attr-defined]
    return rows


def _warranty_state(end: date | None, today: date) -> str:
    if end is None:
        return ""
    if end < today:
        return "past"
    return "soon" if end <= today + timedelta(days=WARRANTY_SOON_DAYS) else ""


def ticket_assets(viewer: User, ticket_id: int) -> list[Asset]:
    """The assets linked to a ticket that ``viewer`` may see, in tag order (one query)."""
    return list(
        assets_visible_to(viewer).filter(ticket_links__ticket_id=ticket_id).select_related("type").order_by("tag")[:100]
    )


def own_assets_choices(requester: User) -> list[Asset]:
    """The requester's own assets (not disposed, not retired) for a "Which device?" question."""
    return list(
        Asset.objects.filter(assigned_to_id=requester.pk)
        .exclude(status__in=[Asset.Status.DISPOSED, Asset.Status.RETIRED])
        .select_related("type")
        .order_by("tag")[:CARD_LIMIT]
    )


# --- reads of the API, the licences pages and the import (docs/assets.md, "API") -------------------


def types_query() -> QuerySet[AssetType]:
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


def tickets_query(user: User, asset: Asset) -> QuerySet[Ticket]:
    """The tickets linked to ``asset`` that ``user`` may see, newest first."""
    return tickets_visible_to(user).filter(asset_links__asset=asset)


def assets_of_ticket(user: User, ticket: Ticket) -> QuerySet[Asset]:
    return assets_visible_to(user).filter(ticket_links__ticket=ticket).select_related("type")


def find_type(pk: int) -> AssetType | None:
    return AssetType.objects.filter(pk=pk).first()
