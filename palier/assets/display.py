"""Asset history as sentences, for the asset page's timeline: "Ada changed the status: in stock →
deployed". Pure: events in, view-models out, no database (the caller loads events with their
actors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import Asset, AssetEvent, Relationship

EMPTY = "—"


@dataclass(frozen=True)
class Line:
    at: datetime
    actor: str
    summary: str
    details: list[str] = field(default_factory=list)


def field_label(key: str, definitions: Sequence[Mapping[str, Any]] = ()) -> str:
    """A changed field's label: the asset's own fields by their verbose name, the type's fields
    (``attributes.<key>``) by their label in the current language."""
    if key.startswith("attributes."):
        bare = key.removeprefix("attributes.")
        french = (get_language() or "fr").startswith("fr")
        for definition in definitions:
            if definition.get("key") == bare:
                return capfirst(str(definition.get("label_fr" if french else "label_en") or bare))
        return bare
    try:
        return capfirst(str(getattr(Asset._meta.get_field(key), "verbose_name", key)))
    except FieldDoesNotExist:
        return key


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if key == "status" and value in Asset.Status.values:
        return str(Asset.Status(value).label)
    if key == "criticality" and value in Asset.Criticality.values:
        return str(Asset.Criticality(value).label)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def _kind(value: Any) -> str:
    return str(Relationship.Kind(value).label) if value in Relationship.Kind.values else str(value)


def _changes(data: Mapping[str, Any], definitions: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for key, change in data.items():
        if isinstance(change, list) and len(change) == 2:
            old, new = change
            lines.append(f"{field_label(key, definitions)}: {_value(key, old)} → {_value(key, new)}")
        elif key != "note":
            lines.append(f"{field_label(key, definitions)}: {_value(key, change)}")
    return lines


def _names(items: Any) -> str:
    return ", ".join(str(i) for i in items) if isinstance(items, list) else ""


def _inventory_parts() -> dict[str, str]:
    return {
        "network_cards": _("Network cards"),
        "disks": _("Disks"),
        "volumes": _("Volumes"),
        "memory_modules": _("Memory modules"),
        "virtual_machines": _("Virtual machines"),
    }


def _inventory_details(data: Mapping[str, Any], definitions: Sequence[Mapping[str, Any]]) -> list[str]:
    """What an inventory report changed: fields old → new, software added, removed or upgraded,
    hardware parts that came or went, and a retired machine that reported."""
    out = _changes(data.get("fields") or {}, definitions)
    software = data.get("software")
    if isinstance(software, Mapping):
        line = _("Software: %(added)d added, %(removed)d removed, %(upgraded)d upgraded") % {
            "added": int(software.get("added", 0)),
            "removed": int(software.get("removed", 0)),
            "upgraded": int(software.get("upgraded", 0)),
        }
        out.append(line)
        for key, label in (
            ("added_names", _("added")),
            ("removed_names", _("removed")),
            ("upgraded_names", _("upgraded")),
        ):
            if software.get(key):
                out.append(f"{capfirst(label)}: {_names(software[key])}")
    for key, label in _inventory_parts().items():
        part = data.get(key)
        if isinstance(part, Mapping):
            if part.get("added"):
                out.append(_("%(part)s added: %(names)s") % {"part": label, "names": _names(part["added"])})
            if part.get("removed"):
                out.append(_("%(part)s removed: %(names)s") % {"part": label, "names": _names(part["removed"])})
    if data.get("dormant_reported") in Asset.Status.values:
        out.append(
            _("It reported while %(status)s: its status is unchanged.")
            % {"status": Asset.Status(data["dormant_reported"]).label}
        )
    return out


def _summary(event: AssetEvent, definitions: Sequence[Mapping[str, Any]] = ()) -> tuple[str, list[str] | None]:
    """The sentence of an event, and its details when they are not the field changes."""
    data, kind = event.data or {}, event.kind
    K = AssetEvent.Kind
    if kind == K.CREATED:
        return _("created the asset"), []
    if kind == K.STATUS and isinstance(data.get("status"), list):
        old, new = data["status"]
        details = [str(data["note"])] if data.get("note") else []
        return _("changed the status: %(old)s → %(new)s") % {
            "old": _value("status", old),
            "new": _value("status", new),
        }, details
    if kind in (K.RELATED, K.UNRELATED):
        relation = _kind(data.get("kind"))
        if "target" in data:
            text = _("this item %(kind)s %(other)s") % {"kind": relation, "other": data["target"]}
        else:
            text = _("%(other)s %(kind)s this item") % {"kind": relation, "other": data.get("source", EMPTY)}
        verb = _("added a relationship") if kind == K.RELATED else _("removed a relationship")
        return f"{verb}: {text}", []
    if kind in (K.TICKET_LINKED, K.TICKET_UNLINKED):
        verb = _("linked the ticket") if kind == K.TICKET_LINKED else _("removed the link to the ticket")
        return f"{verb} {data.get('number', EMPTY)}", []
    if kind == K.INVENTORY:
        return _("inventory report"), _inventory_details(data, definitions)
    if kind == K.ATTACHED:
        return _("attached the file %(name)s") % {"name": data.get("file", EMPTY)}, []
    return str(K(kind).label) if kind in K.values else str(kind), None


def lines(events: Iterable[AssetEvent], definitions: Sequence[Mapping[str, Any]] = ()) -> list[Line]:
    """The timeline's lines, in the order given. ``definitions``: the asset type's fields."""
    out = []
    for event in events:
        summary, details = _summary(event, definitions)
        if details is None:
            details = _changes(event.data or {}, definitions)
        actor = event.actor.display_name if event.actor is not None else _("Palier")
        out.append(Line(at=event.at, actor=actor, summary=summary, details=details))
    return out


def inventory_summary(inventory: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The last inventory report by section, one short line each: a list by its item count, an
    object by its first few values."""
    out = []
    for section, content in sorted((inventory or {}).items()):
        if isinstance(content, list):
            text = _("%(n)d items") % {"n": len(content)}
        elif isinstance(content, Mapping):
            pairs = [f"{k}: {v}" for k, v in content.items() if isinstance(v, str | int | float) and v != ""][:4]
            text = ", ".join(pairs) or EMPTY
        else:
            text = str(content)[:200]
        out.append((str(section), text))
    return out
