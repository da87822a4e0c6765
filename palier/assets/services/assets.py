"""Create and change assets: one transaction, row lock, version check, one history event."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion
from palier.people.models import User

from .. import fields as type_fields
from .. import history, permissions
from ..models import Asset, AssetEvent, AssetType

# what a person may set through a form, the API or an import (status has its own service)
EDITABLE = (
    "tag",
    "type",
    "name",
    "serial",
    "manufacturer",
    "model",
    "assigned_to",
    "location",
    "organisation",
    "department",
    "owner_group",
    "supplier",
    "purchase_date",
    "purchase_cost",
    "warranty_end",
    "notes",
    "criticality",
    "attributes",
)

S = Asset.Status
# the lifecycle: where an asset may go from each status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.ORDERED: frozenset({S.IN_STOCK, S.DEPLOYED, S.RETIRED}),
    S.IN_STOCK: frozenset({S.DEPLOYED, S.IN_REPAIR, S.RETIRED}),
    S.DEPLOYED: frozenset({S.IN_STOCK, S.IN_REPAIR, S.RETIRED}),
    S.IN_REPAIR: frozenset({S.IN_STOCK, S.DEPLOYED, S.RETIRED}),
    S.RETIRED: frozenset({S.IN_STOCK, S.DISPOSED}),
    S.DISPOSED: frozenset(),
}

_TEXT_LIMITS = {"tag": 64, "name": 200, "serial": 120, "manufacturer": 120, "model": 200}


def _clean_text(key: str, value: Any, errors: dict[str, str]) -> str:
    text = "" if value is None else str(value).strip()
    limit = _TEXT_LIMITS.get(key, 20000)
    if len(text) > limit:
        errors[key] = _("At most %(n)d characters.") % {"n": limit}
    return text


def _clean_cost(key: str, value: Any, errors: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        cost = Decimal(str(value).replace(",", "."))
    except ArithmeticError:
        errors[key] = _("Enter a number.")
        return None
    if not cost.is_finite() or cost < 0 or cost >= Decimal("1e10"):
        errors[key] = _("Enter an amount of zero or more.")
    return cost


def _clean_date(key: str, value: Any, errors: dict[str, str]) -> date | None:
    if value in (None, "") or isinstance(value, date):
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[key] = _("Enter a date as YYYY-MM-DD.")
        return None


def _clean_criticality(key: str, value: Any, errors: dict[str, str]) -> str:
    text = value or ""
    if text and text not in Asset.Criticality.values:
        errors[key] = _("Unknown criticality.")
    return str(text)


_CLEANERS = {
    **{key: _clean_text for key in (*_TEXT_LIMITS, "notes")},
    "purchase_cost": _clean_cost,
    "purchase_date": _clean_date,
    "warranty_end": _clean_date,
    "criticality": _clean_criticality,
}


def _cross_checks(out: dict[str, Any], current: Asset | None, errors: dict[str, str]) -> None:
    if "tag" in out and not out["tag"]:
        errors["tag"] = _("Give the asset a tag.")
    if "name" in out and not out["name"]:
        errors["name"] = _("Give the asset a name.")
    if "type" in out and not isinstance(out["type"], AssetType):
        errors["type"] = _("Choose a type.")
    user = out.get("assigned_to")
    if user is not None and not user.is_active:
        errors["assigned_to"] = _("This person's account is deactivated.")
    bought = out.get("purchase_date", current.purchase_date if current else None)
    warranty = out.get("warranty_end", current.warranty_end if current else None)
    if bought and warranty and warranty < bought:
        errors["warranty_end"] = _("The warranty cannot end before the purchase.")


def _clean_attributes(out: dict[str, Any], current: Asset | None) -> None:
    asset_type: AssetType | None = out.get("type", current.type if current else None)
    if asset_type is None or ("attributes" not in out and "type" not in out):
        return
    given = out.get("attributes")
    if given is None:
        given = dict(current.attributes) if current else {}
        if "type" in out and current is not None and out["type"].pk != current.type_id:
            keys = {d["key"] for d in asset_type.fields}
            given = {k: v for k, v in given.items() if k in keys}
        out["attributes"] = type_fields.clean_values(asset_type.fields, given, partial=True)
    else:
        merged = {**(current.attributes if current and "type" not in out else {}), **given}
        out["attributes"] = type_fields.clean_values(asset_type.fields, merged, partial=current is not None)


def _clean(values: Mapping[str, Any], *, current: Asset | None) -> dict[str, Any]:
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationError({"__all__": _("Unknown fields: %(keys)s.") % {"keys": ", ".join(unknown)}})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, value in values.items():
        cleaner = _CLEANERS.get(key)
        out[key] = cleaner(key, value, errors) if cleaner else value
    _cross_checks(out, current, errors)
    if errors:
        raise ValidationError(errors)
    _clean_attributes(out, current)
    return out


def _tag_taken(tag: str, *, exclude: int | None = None) -> bool:
    query = Asset.objects.filter(tag__iexact=tag)
    if exclude is not None:
        query = query.exclude(pk=exclude)
    return query.exists()


@transaction.atomic
def create_asset(
    actor: User | None,
    values: Mapping[str, Any],
    *,
    status: str = S.IN_STOCK,
    event_kind: str = AssetEvent.Kind.CREATED,
) -> Asset:
    """A new asset; ``actor`` None is Palier itself (inventory, import as a job)."""
    if actor is not None and not (actor.is_admin or actor.is_agent):
        raise PermissionDenied(_("Only the desk's staff may add assets."))
    data = _clean(values, current=None)
    for required in ("tag", "type", "name"):
        if required not in data:
            raise ValidationError({required: _("This field is required.")})
    if status not in S.values:
        raise ValidationError({"status": _("Unknown status.")})
    if _tag_taken(data["tag"]):
        raise ValidationError({"tag": _("Another asset already has the tag “%(tag)s”.") % {"tag": data["tag"]}})
    asset = Asset(status=status, **data)
    if actor is not None and not actor.is_admin and not permissions.can(actor, "change", asset):
        raise PermissionDenied(_("You may not add assets owned by this group."))
    asset.refresh_search_text()
    try:
        with transaction.atomic():
            asset.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(
            {"tag": _("Another asset already has the tag “%(tag)s”.") % {"tag": data["tag"]}}
        ) from None
    history.record(asset, event_kind, actor=actor, data={"status": status, "type": asset.type.slug})
    return asset


def lock(asset: Asset | int, expected_version: int | None = None) -> Asset:
    """Re-read the asset under a row lock and check the version the caller saw."""
    pk = asset if isinstance(asset, int) else asset.pk
    locked = Asset.objects.select_for_update().select_related("type").filter(pk=pk).first()
    if locked is None:
        raise NotFound(_("Asset not found."))
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            _("The asset was changed by someone else (version %(now)d, you saw %(seen)d). Reload it and try again.")
            % {"now": locked.version, "seen": expected_version}
        )
    return locked


def _label(value: Any) -> Any:
    return history.plain(value)


@transaction.atomic
def update_asset(
    actor: User | None,
    asset: Asset | int,
    values: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    event_kind: str = AssetEvent.Kind.CHANGED,
) -> Asset:
    """Change an asset's fields; one event lists every field changed, old → new. Nothing
    changed: no event, no new version."""
    locked = lock(asset, expected_version)
    if actor is not None and not permissions.can(actor, "change", locked):
        raise PermissionDenied(_("You may not change this asset."))
    data = _clean(values, current=locked)
    if "tag" in data and data["tag"] != locked.tag and _tag_taken(data["tag"], exclude=locked.pk):
        raise ValidationError({"tag": _("Another asset already has the tag “%(tag)s”.") % {"tag": data["tag"]}})
    changes: dict[str, list[Any]] = {}
    for key, new in data.items():
        old = getattr(locked, key)
        if key == "attributes":
            for attr in sorted(set(old) | set(new)):
                if old.get(attr) != new.get(attr):
                    changes[f"attributes.{attr}"] = [old.get(attr), new.get(attr)]
            if old != new:
                locked.attributes = {k: v for k, v in {**old, **new}.items() if v is not None}
            continue
        if (old.pk if hasattr(old, "pk") else old) != (new.pk if hasattr(new, "pk") else new):
            changes[key] = [_label(old), _label(new)]
            setattr(locked, key, new)
    if actor is not None and "owner_group" in data and not permissions.can(actor, "change", locked):
        raise PermissionDenied(_("You may not give this asset to a group you are not in."))
    if not changes:
        return locked
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.refresh_search_text()
    locked.save()
    kind = event_kind
    if kind == AssetEvent.Kind.CHANGED and set(changes) == {"assigned_to"}:
        kind = AssetEvent.Kind.ASSIGNED
    history.record(locked, kind, actor=actor, data=changes)
    return locked


@transaction.atomic
def change_status(
    actor: User | None, asset: Asset | int, status: str, *, expected_version: int | None = None, note: str = ""
) -> Asset:
    """Move an asset along its lifecycle; a move the lifecycle does not allow is refused."""
    locked = lock(asset, expected_version)
    if actor is not None and not permissions.can(actor, "change", locked):
        raise PermissionDenied(_("You may not change this asset."))
    if status not in S.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status == locked.status:
        return locked
    if status not in TRANSITIONS[locked.status]:
        raise IllegalTransition(
            _("An asset cannot go from “%(old)s” to “%(new)s”.")
            % {"old": S(locked.status).label, "new": S(status).label}
        )
    old = locked.status
    locked.status = status
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["status", "version", "updated_at"])
    data: dict[str, Any] = {"status": [old, status]}
    if note:
        data["note"] = note[:1000]
    history.record(locked, AssetEvent.Kind.STATUS, actor=actor, data=data)
    return locked
