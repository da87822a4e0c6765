"""Small builders for asset tests."""

from __future__ import annotations

from typing import Any

from palier.assets import services
from palier.assets.models import Asset, AssetType
from palier.people.models import User


def asset_type(slug: str = "laptop") -> AssetType:
    return AssetType.objects.get(slug=slug)


def make_asset(
    tag: str, *, by: User | None = None, type: str = "laptop", status: str = Asset.Status.IN_STOCK, **values: Any
) -> Asset:
    values.setdefault("name", f"Asset {tag}")
    return services.create_asset(by, {"tag": tag, "type": asset_type(type), **values}, status=status)
