"""Apply one checked inventory report to its machine, in one transaction.

Matching: the machine is the asset that owns one of the report's identifiers, tried in order —
inventory device id, system UUID, serial number, MAC addresses — so a reinstalled machine (new
device id) is still found by its UUID or serial and no report ever makes a duplicate. The
identifiers the report adds that no other asset owns are recorded.

A new machine gets its type from the item type (and the chassis for computers), a tag
``INV-<id>``, the status deployed, and the token's organisation, location and owner group.
A known one is updated: fields from the report, sections (a partial report replaces only the
sections it carries), software by difference. What changed is ONE ``inventory`` event.

A machine of another organisation than the token's is not touched (``Conflict``, the report is
held). A retired or disposed machine keeps its status: its data is updated, the event says a
retired machine reported, and the report is held for an administrator to see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import Conflict

from .. import fields as type_fields
from .. import history
from ..models import Asset, AssetEvent, AssetIdentifier, AssetType, Installation, InventoryReport, InventoryToken
from .extract import Facts, Software, stable

NAMES_CAP = 20  # software names listed in an event, per list
ATTEMPTS = 3  # two first reports of one new machine at once: the loser retries and finds it

S = Asset.Status
DORMANT = frozenset({S.RETIRED, S.DISPOSED})


@dataclass
class Outcome:
    asset: Asset
    created: bool
    changed: bool
    held: str = ""  # why the report is held for review


def apply(facts: Facts, *, token: InventoryToken | None, report: InventoryReport | None = None) -> Outcome:
    """Apply in a transaction (a savepoint when the caller has one: the intake stores the raw
    report in the same commit)."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return _apply(facts, token=token, report=report)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


STRONG = ("uuid", "serial")


def _match(identifiers: list[tuple[str, str]]) -> tuple[int | None, set[tuple[str, str]]]:
    """The matched asset's id and the identifiers already taken (by anyone)."""
    if not identifiers:
        return None, set()
    kinds = {kind for kind, _value in identifiers}
    values = {value for _kind, value in identifiers}
    rows = list(
        AssetIdentifier.objects.filter(kind__in=kinds, value__in=values).values_list("kind", "value", "asset_id")
    )
    owner = {(kind, value): asset_id for kind, value, asset_id in rows}
    for identifier in identifiers:
        if identifier in owner:
            asset_id = owner[identifier]
            if identifier[0] == "mac" and _disagrees(asset_id, identifiers):
                continue
            return asset_id, set(owner)
    return None, set(owner)


def _disagrees(asset_id: int, identifiers: list[tuple[str, str]]) -> bool:
    """Does a machine found by a MAC address have another UUID or serial than the report's? A
    docking station's or USB adapter's MAC moves between laptops: the hardware's own identity wins."""
    strong = {(kind, value) for kind, value in identifiers if kind in STRONG}
    if not strong:
        return False
    theirs = set(AssetIdentifier.objects.filter(asset_id=asset_id, kind__in=STRONG).values_list("kind", "value"))
    reported_kinds = {kind for kind, _value in strong}
    return any(kind in reported_kinds and (kind, value) not in strong for kind, value in theirs)


def _attributes(asset_type: AssetType, values: dict[str, Any]) -> dict[str, Any]:
    keys = {d["key"] for d in asset_type.fields}
    wanted = {k: v for k, v in values.items() if k in keys}
    try:
        return type_fields.clean_values(asset_type.fields, wanted, partial=True)
    except Exception:  # a type an admin changed so a reported value no longer fits: keep the rest
        cleaned: dict[str, Any] = {}
        for key, value in wanted.items():
            try:
                cleaned.update(type_fields.clean_values(asset_type.fields, {key: value}, partial=True))
            except Exception:  # noqa: S112 - that one value does not fit the admin's field
                continue
        return cleaned


class MissingType(ValueError):
    pass


def _new_asset(facts: Facts, token: InventoryToken | None, now: Any) -> Asset:
    asset_type = AssetType.objects.filter(slug=facts.type_slug).first()
    if asset_type is None:
        raise MissingType(
            _("Palier has no asset type “%(slug)s” for this machine: an administrator must restore it.")
            % {"slug": facts.type_slug}
        )
    asset = Asset(
        tag=f"INV-tmp-{timezone.now().timestamp()}-{id(facts)}"[:64],
        type=asset_type,
        name=facts.fields["name"] or facts.device_id[:200] or _("Unnamed machine"),
        serial=facts.fields["serial"],
        manufacturer=facts.fields["manufacturer"],
        model=facts.fields["model"],
        status=S.DEPLOYED,
        organisation=token.organisation if token else None,
        location=token.location if token else None,
        owner_group=token.owner_group if token else None,
        attributes=_attributes(asset_type, facts.attributes),
        inventory=facts.sections,
        last_inventory_at=now,
        created_at=now,
        updated_at=now,
    )
    asset.save(force_insert=True)
    tag = f"INV-{asset.pk:06d}"
    # tags are unique whatever their case; these two spellings are what the unique index can answer
    if Asset.objects.filter(tag__in=[tag, tag.lower()]).exclude(pk=asset.pk).exists():
        tag = f"INV-{asset.pk:06d}-{int(now.timestamp())}"
    asset.tag = tag
    asset.refresh_search_text()
    Asset.objects.filter(pk=asset.pk).update(tag=asset.tag, search_text=asset.search_text)
    return asset


def _software_diff(asset: Asset, software: list[Software]) -> dict[str, Any]:
    """Replace the machine's reported installations by difference; what changed, for the event."""
    current = {
        (product, version): (pk, from_inventory, name)
        for pk, product, version, from_inventory, name in Installation.objects.filter(asset=asset).values_list(
            "pk", "product", "version", "from_inventory", "name"
        )
    }
    wanted = {(row.product, row.version[:120]): row for row in software}
    gone = [key for key, (_pk, reported, _n) in current.items() if reported and key not in wanted]
    new = [key for key in wanted if key not in current]
    if gone:
        ids = [current[key][0] for key in gone]
        for start in range(0, len(ids), 500):
            Installation.objects.filter(pk__in=ids[start : start + 500]).delete()
    if new:
        Installation.objects.bulk_create(
            [
                Installation(
                    asset=asset,
                    name=wanted[key].name,
                    publisher=wanted[key].publisher,
                    version=key[1],
                    product=key[0],
                    installed_on=wanted[key].installed_on,
                    from_inventory=True,
                )
                for key in new
            ],
            batch_size=500,
        )
    if not gone and not new:
        return {}
    gone_products = {product for product, _v in gone}
    new_products = {product for product, _v in new}
    upgraded = sorted(gone_products & new_products)
    names = {key[0]: current[key][2] for key in gone} | {key[0]: wanted[key].name for key in new}
    added = sorted(names[p] for p in new_products - gone_products)
    removed = sorted(names[p] for p in gone_products - new_products)
    out: dict[str, Any] = {
        "added": len(added),
        "removed": len(removed),
        "upgraded": len(upgraded),
    }
    if added:
        out["added_names"] = added[:NAMES_CAP]
    if removed:
        out["removed_names"] = removed[:NAMES_CAP]
    if upgraded:
        out["upgraded_names"] = [names[p] for p in upgraded[:NAMES_CAP]]
    return out


def _keyed(section: Any, *keys: str) -> set[str]:
    out: set[str] = set()
    for item in section or []:
        if isinstance(item, dict):
            for key in keys:
                if item.get(key):
                    out.add(str(item[key]))
                    break
    return out


# (section, label in the event, keys naming one item: the first present)
_COMPONENTS = (
    ("networks", "network_cards", ("mac", "description")),
    ("storages", "disks", ("serial", "name", "model")),
    ("drives", "volumes", ("volumn", "letter", "type")),
    ("memories", "memory_modules", ("serialnumber", "caption")),
    ("virtualmachines", "virtual_machines", ("uuid", "name")),
)


def _section_diff(old: dict[str, Any], new: dict[str, Any], present: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section, label, keys in _COMPONENTS:
        if section not in present:
            continue
        before, after = _keyed(old.get(section), *keys), _keyed(new.get(section), *keys)
        if before != after:
            out[label] = {"added": sorted(after - before)[:NAMES_CAP], "removed": sorted(before - after)[:NAMES_CAP]}
    labelled = {section for section, _l, _k in _COMPONENTS}
    changed = sorted(
        section
        for section in present
        if section not in labelled and stable(old.get(section)) != stable(new.get(section))
    )
    if changed:
        out["sections"] = changed
    return out


def _update(asset_id: int, facts: Facts, token: InventoryToken | None, now: Any, data: dict[str, Any]) -> Asset:
    """The known machine, locked and updated; what changed goes into ``data``."""
    asset = Asset.objects.select_for_update().select_related("type").get(pk=asset_id)
    if token is not None and token.organisation_id and asset.organisation_id not in (None, token.organisation_id):
        raise Conflict(
            _("This machine (%(tag)s) belongs to another organisation than this token's; the report is held.")
            % {"tag": asset.tag}
        )
    changes: dict[str, list[Any]] = {}
    for key, value in facts.fields.items():
        # the name is the host name when the report creates the asset; afterwards it is the
        # desk's (the ``hostname`` field follows the machine)
        if key != "name" and value and getattr(asset, key) != value:
            changes[key] = [getattr(asset, key), value]
            setattr(asset, key, value)
    attributes = _attributes(asset.type, facts.attributes)
    for key, value in attributes.items():
        if asset.attributes.get(key) != value:
            changes[f"attributes.{key}"] = [asset.attributes.get(key), value]
    if changes:
        data["fields"] = changes
    old_sections = asset.inventory or {}
    if facts.partial:
        present = set(facts.sections)
        sections = {**old_sections, **facts.sections}
    else:
        present = set(facts.sections) | set(old_sections)
        sections = dict(facts.sections)
    data.update(_section_diff(old_sections, sections, present))
    if facts.software is not None:
        software = _software_diff(asset, facts.software)
        if software:
            data["software"] = software
    asset.attributes = {**asset.attributes, **attributes}
    asset.inventory = sections
    asset.last_inventory_at = now
    update = ["inventory", "last_inventory_at"]
    if data:
        asset.version += 1
        asset.updated_at = now
        asset.refresh_search_text()
        update += ["name", "serial", "manufacturer", "model", "attributes", "version", "updated_at", "search_text"]
    asset.save(update_fields=update)
    return asset


def _apply(facts: Facts, *, token: InventoryToken | None, report: InventoryReport | None) -> Outcome:
    now = timezone.now()
    asset_id, taken = _match(facts.identifiers)
    created = asset_id is None
    data: dict[str, Any] = {}
    if asset_id is None:
        asset = _new_asset(facts, token, now)
        history.record(
            asset,
            AssetEvent.Kind.CREATED,
            actor=None,
            data={"status": S.DEPLOYED, "type": facts.type_slug, "inventory": True},
        )
        if facts.software:
            data["software"] = _software_diff(asset, facts.software)
        data["sections"] = sorted(facts.sections)
    else:
        asset = _update(asset_id, facts, token, now, data)
    held = ""
    if asset.status in DORMANT:
        held = _("A %(status)s machine reported: its status is unchanged; check whether it is back in use.") % {
            "status": S(asset.status).label
        }
        data["dormant_reported"] = asset.status
    new_identifiers = [
        AssetIdentifier(asset=asset, kind=kind, value=value)
        for kind, value in facts.identifiers
        if (kind, value) not in taken
    ]
    if new_identifiers:
        AssetIdentifier.objects.bulk_create(new_identifiers)
    if data:
        if report is not None:
            data["report"] = report.pk
        history.record(asset, AssetEvent.Kind.INVENTORY, actor=None, data=data)
    return Outcome(asset=asset, created=created, changed=bool(data), held=held)
