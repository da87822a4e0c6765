"""Export of an asset list with its filters, in the columns the import reads (docs/assets.md,
"Import and export"): an exported file, edited, imports back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from palier.people.models import User

from .importing import ASSET_COLUMNS, FIELD_PREFIX
from .models import Asset, AssetType
from .selectors import AssetFilters, filtered


def filters_from_query(params: Any) -> AssetFilters:
    """The asset list's filters from a page's query string (the API's names); a bad value is
    ignored, as the list page does."""

    def number(name: str) -> int | None:
        value = str(params.get(name, "")).strip()
        return int(value) if value.isdigit() else None

    def day(name: str) -> date | None:
        try:
            return date.fromisoformat(str(params.get(name, "")).strip())
        except ValueError:
            return None

    statuses = [s for v in params.getlist("status") for s in v.split(",") if s in Asset.Status.values]
    inventory_before = day("inventory_before")
    if str(params.get("stale", "")) in ("1", "true", "on"):
        inventory_before = timezone.localdate() - timedelta(days=settings.PALIER_INVENTORY_STALE_DAYS)
    return AssetFilters(
        q=str(params.get("q", ""))[:200],
        type=str(params.get("type", ""))[:60],
        family=str(params.get("family", ""))[:16],
        status=tuple(statuses),
        assigned_to=number("assigned_to"),
        location=number("location"),
        organisation=number("organisation"),
        owner_group=number("owner_group"),
        unowned=str(params.get("unowned", "")) in ("1", "true", "on"),
        warranty_before=day("warranty_before"),
        inventory_before=inventory_before,
    )


def export_columns(filters: AssetFilters) -> list[str]:
    """The import's asset columns, plus the type's own fields when the list is of one type."""
    columns = list(ASSET_COLUMNS)
    asset_type = AssetType.objects.filter(slug=filters.type).first() if filters.type else None
    if asset_type is not None:
        columns += [FIELD_PREFIX + d["key"] for d in asset_type.fields]
    return columns


def export_rows(user: User, filters: AssetFilters, columns: list[str]) -> Iterator[list[Any]]:
    """The assets ``user`` sees through ``filters``, in tag order, read in chunks."""
    qs = (
        filtered(user, filters)
        .select_related("type", "assigned_to", "location", "organisation", "owner_group", "supplier")
        .order_by("tag")
    )
    for asset in qs.iterator(chunk_size=2000):
        yield [_export_cell(asset, column) for column in columns]


def _export_cell(asset: Asset, column: str) -> Any:
    if column.startswith(FIELD_PREFIX):
        value = asset.attributes.get(column[len(FIELD_PREFIX) :])
        return None if value is None else str(value)
    value = getattr(asset, column)
    if column == "type":
        return asset.type.slug
    if column == "assigned_to":
        return value.email if value else None
    if column == "location":
        return value.path if value else None
    if column in ("organisation", "owner_group", "supplier"):
        return value.name if value else None
    if column == "purchase_cost":
        return None if value is None else float(value)
    return value
