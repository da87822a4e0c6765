"""Asset types (administrators): bilingual names, family, active, and their own fields, checked by
``fields.clean_definitions``. Audited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import PermissionDenied
from palier.people.models import User

from .. import fields as type_fields
from .. import history, permissions
from ..models import Asset, AssetEvent, AssetType


def _clean(by: User, *, name_fr: str, name_en: str, family: str, fields: Any) -> dict[str, Any]:
    if not permissions.can_manage_catalogue(by):
        raise PermissionDenied(_("Only administrators manage asset types."))
    errors: dict[str, str] = {}
    names = {"name_fr": " ".join((name_fr or "").split()), "name_en": " ".join((name_en or "").split())}
    for key, value in names.items():
        if not value:
            errors[key] = _("Give the type its name in both languages.")
        elif len(value) > 120:
            errors[key] = _("At most %(n)d characters.") % {"n": 120}
    if family not in AssetType.Family.values:
        errors["family"] = _("Unknown family.")
    if errors:
        raise ValidationError(errors)
    return {**names, "family": family, "fields": type_fields.clean_definitions(fields)}


@transaction.atomic
def create_type(
    *, by: User, name_fr: str, name_en: str, family: str, fields: Any = (), slug: str = "", inventoried: bool = False
) -> AssetType:
    data = _clean(by, name_fr=name_fr, name_en=name_en, family=family, fields=list(fields))
    slug = slugify(slug or data["name_en"])[:60]
    if not slug:
        raise ValidationError({"slug": _("Give the type an identifier (letters, digits, hyphens).")})
    if AssetType.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("Another type has the identifier “%(slug)s”.") % {"slug": slug}})
    position = (AssetType.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    asset_type = AssetType.objects.create(slug=slug, inventoried=inventoried, position=position, **data)
    audit.record("asset_type.created", actor=by, target=asset_type, changes={"slug": [None, slug]})
    return asset_type


@transaction.atomic
def update_type(
    asset_type: AssetType,
    *,
    by: User,
    name_fr: str,
    name_en: str,
    family: str,
    fields: Any,
    active: bool = True,
    inventoried: bool = False,
) -> AssetType:
    """Change a type: names, family, active (an inactive type is offered for no new asset) and
    its own fields. The values assets hold for a field removed here are removed with it."""
    data = _clean(by, name_fr=name_fr, name_en=name_en, family=family, fields=fields)
    locked = AssetType.objects.select_for_update().get(pk=asset_type.pk)
    data.update(active=bool(active), inventoried=bool(inventoried))
    before = {key: getattr(locked, key) for key in data}
    removed = {d["key"] for d in locked.fields} - {d["key"] for d in data["fields"]}
    for key, value in data.items():
        setattr(locked, key, value)
    locked.save()
    changes = audit.diff(before, data)
    if removed:
        changes["values_removed"] = [None, _drop_values(locked, removed, by=by)]
    audit.record("asset_type.changed", actor=by, target=locked, changes=changes)
    return locked


def _drop_values(asset_type: AssetType, keys: set[str], *, by: User) -> int:
    """Remove the values of fields the type no longer has from its assets (an unknown field is
    refused on the assets' next change), a chunk at a time, each asset with its history event;
    returns how many assets changed."""
    query = Q()
    for key in sorted(keys):
        query |= Q(attributes__has_key=key)
    changed = 0
    now = timezone.now()
    assets = Asset.objects.filter(query, type=asset_type).only("id", "attributes", "version", "updated_at")
    batch: list[Asset] = []
    events: list[tuple[Asset, str, User | None, Mapping[str, Any]]] = []

    def flush() -> int:
        count = Asset.objects.bulk_update(batch, ["attributes", "version", "updated_at"])
        history.record_many(events)
        batch.clear()
        events.clear()
        return count

    for asset in assets.iterator(chunk_size=1000):
        gone = {f"attributes.{k}": [v, None] for k, v in asset.attributes.items() if k in keys}
        asset.attributes = {k: v for k, v in asset.attributes.items() if k not in keys}
        asset.version += 1
        asset.updated_at = now
        batch.append(asset)
        events.append((asset, AssetEvent.Kind.CHANGED, by, gone))
        if len(batch) == 1000:
            changed += flush()
    if batch:
        changed += flush()
    return changed
