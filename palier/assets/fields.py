"""Pure checks of an asset type's own fields: their definitions (admin input) and the values an
asset gives them (form, API, import, inventory). No database."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

KINDS = ("text", "number", "date", "bool", "choice")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 40
MAX_TEXT = 1000


def clean_definitions(raw: Any) -> list[dict[str, Any]]:
    """The field definitions an administrator gave, normalised, or ValidationError naming the
    field at fault."""
    if not isinstance(raw, list):
        raise ValidationError({"fields": _("The fields must be a list.")})
    if len(raw) > MAX_FIELDS:
        raise ValidationError({"fields": _("At most %(n)d fields per type.") % {"n": MAX_FIELDS}})
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValidationError({"fields": _("Field %(n)d is not an object.") % {"n": index}})
        key = str(item.get("key", "")).strip()
        if not KEY.match(key):
            raise ValidationError(
                {
                    "fields": _("Field %(n)d: the key must be lower-case letters, digits or _ (40 at most).")
                    % {"n": index}
                }
            )
        if key in seen:
            raise ValidationError({"fields": _("Two fields have the key “%(key)s”.") % {"key": key}})
        seen.add(key)
        kind = item.get("type", "text")
        if kind not in KINDS:
            raise ValidationError(
                {"fields": _("Field “%(key)s”: unknown type “%(type)s”.") % {"key": key, "type": kind}}
            )
        label_fr = str(item.get("label_fr", "")).strip()[:120]
        label_en = str(item.get("label_en", "")).strip()[:120]
        if not label_fr or not label_en:
            raise ValidationError(
                {"fields": _("Field “%(key)s”: give its label in French and English.") % {"key": key}}
            )
        field: dict[str, Any] = {
            "key": key,
            "label_fr": label_fr,
            "label_en": label_en,
            "type": kind,
            "required": bool(item.get("required", False)),
        }
        if kind == "choice":
            choices = item.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str) and c.strip() for c in choices)
            ):
                raise ValidationError({"fields": _("Field “%(key)s”: give its choices.") % {"key": key}})
            field["choices"] = [c.strip()[:120] for c in choices][:100]
        out.append(field)
    return out


def clean_values(definitions: list[dict[str, Any]], raw: Any, *, partial: bool = False) -> dict[str, Any]:
    """The values of a type's fields, checked and converted to JSON-ready values; unknown keys
    are refused (a typo must not vanish silently). ``partial``: missing required fields are fine
    (an update that does not touch them)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ValidationError({"attributes": _("The fields must be an object.")})
    by_key = {d["key"]: d for d in definitions}
    errors: dict[str, str] = {}
    unknown = sorted(set(raw) - set(by_key))
    if unknown:
        errors["attributes"] = _("Unknown fields for this type: %(keys)s.") % {"keys": ", ".join(map(str, unknown))}
    out: dict[str, Any] = {}
    for key, definition in by_key.items():
        if key not in raw or raw[key] in (None, ""):
            if definition.get("required") and not partial:
                errors[key] = _("This field is required.")
            if key in raw:
                out[key] = None
            continue
        try:
            out[key] = _convert(definition, raw[key])
        except ValueError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError(errors)
    return out


def _text(definition: dict[str, Any], value: Any) -> str:
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise ValueError(_("At most %(n)d characters.") % {"n": MAX_TEXT})
    return text


def _number(definition: dict[str, Any], value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(_("Enter a number."))
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(_("Enter a number.")) from None
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        raise ValueError(_("Enter a number."))
    return int(number) if number == number.to_integral_value() else float(number)


def _date(definition: dict[str, Any], value: Any) -> str:
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


_TRUE = frozenset({"1", "true", "yes", "oui", "vrai", "on"})
_FALSE = frozenset({"0", "false", "no", "non", "faux", "off"})


def _bool(definition: dict[str, Any], value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(_("Enter yes or no."))


def _choice(definition: dict[str, Any], value: Any) -> str:
    choice = str(value).strip()
    if choice not in definition.get("choices", []):
        raise ValueError(_("Choose one of: %(choices)s.") % {"choices": ", ".join(definition.get("choices", []))})
    return choice


_CONVERTERS = {"text": _text, "number": _number, "date": _date, "bool": _bool, "choice": _choice}


def _convert(definition: dict[str, Any], value: Any) -> Any:
    return _CONVERTERS[definition["type"]](definition, value)
