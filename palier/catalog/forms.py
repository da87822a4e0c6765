"""The request form built from an item's fields, used by the portal's item page and the API.
The pages' other forms are in ``palier/portal/forms/catalog.py`` and ``palier/agent/forms/catalog.py``."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from palier.assets.models import Asset
from palier.catalog import conditions
from palier.catalog.models import ItemField
from palier.lib.web import StyledFormMixin
from palier.people.models import User

K = ItemField.Kind
MAX_SHORT = 200
MAX_LONG = 5000


class PersonField(forms.EmailField):
    """A person picked by email address among the people the requester may name."""

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = people

    def clean(self, value: Any) -> User | None:
        email = super().clean(value)
        if not email:
            return None
        person = self.people.filter(email__iexact=email).first()
        if person is None:
            raise ValidationError(_("Nobody you can choose has this email address."), code="unknown_person")
        return person  # type: ignore[no-any-return]


class DeviceField(forms.ChoiceField):
    """One of the requester's own assets (``devices``); anything else is refused."""

    def __init__(self, *args: Any, devices: Sequence[Asset], **kwargs: Any) -> None:
        self.devices = {str(a.pk): a for a in devices}
        choices = [("", "—"), *((key, f"{a.tag} · {a.name} ({a.type.name})") for key, a in self.devices.items())]
        super().__init__(*args, choices=choices, **kwargs)

    def clean(self, value: Any) -> Asset | None:
        key = super().clean(value)
        return self.devices.get(key) if key else None


def _form_field(spec: ItemField, people: Any, devices: Sequence[Asset] = ()) -> forms.Field:
    made = _typed_field(spec, people, devices)
    rules = spec.conditions or {}
    if rules.get("show") or rules.get("require"):
        # shown or required depending on other answers: ``conditions.apply`` decides in ``clean``
        made.required = False
        made.required_when_shown = spec.required  # type: ignore[attr-defined]  # the asterisk
    return made


def _typed_field(spec: ItemField, people: Any, devices: Sequence[Asset] = ()) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "help_text": spec.help, "required": spec.required}
    if spec.kind == K.ASSET:
        return DeviceField(devices=devices, **common)
    if spec.kind == K.SHORT_TEXT:
        return forms.CharField(max_length=MAX_SHORT, **common)
    if spec.kind == K.LONG_TEXT:
        return forms.CharField(max_length=MAX_LONG, widget=forms.Textarea(attrs={"rows": 4}), **common)
    if spec.kind == K.NUMBER:
        return forms.DecimalField(
            min_value=spec.min_value, max_value=spec.max_value, max_digits=14, decimal_places=2, **common
        )
    if spec.kind == K.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if spec.kind == K.CHOICE:
        choices = [("", "—"), *spec.choice_pairs()]
        return forms.ChoiceField(choices=choices, **common)
    if spec.kind == K.MULTIPLE:
        return forms.MultipleChoiceField(choices=spec.choice_pairs(), widget=forms.CheckboxSelectMultiple, **common)
    if spec.kind == K.PERSON:
        return PersonField(people=people, widget=forms.EmailInput(attrs={"autocomplete": "off"}), **common)
    if spec.kind == K.ATTACHMENT:
        return forms.FileField(**common)
    return forms.BooleanField(**common)  # checkbox: "required" means it must be ticked


def wants_devices(specs: list[ItemField]) -> bool:
    """Does the item ask "which device?" (then the caller passes the requester's own assets)."""
    return any(spec.kind == K.ASSET for spec in specs)


class RequestForm(StyledFormMixin, forms.Form):
    """The form of one catalog item: one control per field, validated by type, then by the
    item's conditions (``conditions.apply``: a hidden field's answer is dropped, a field required
    when shown must be answered, a filtered choice must be one offered). An asset field offers
    only ``devices``, the requester's own assets."""

    hidden_keys: set[str]

    def __init__(
        self, *args: Any, specs: list[ItemField], people: Any, devices: Sequence[Asset] = (), **kwargs: Any
    ) -> None:
        self.specs = specs
        # the fields exist before Django copies them, so the mixin gives each its Bootstrap class
        self.base_fields = {f"f_{spec.key}": _form_field(spec, people, devices) for spec in specs}  # type: ignore[misc]  # per-instance fields
        self.hidden_keys = set()
        super().__init__(*args, **kwargs)

    def rules_json(self) -> list[dict[str, Any]]:
        """The conditions for the page's script (``json_script``)."""
        return conditions.describe(self.specs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        stored = {s.key: _render(s, data.get(f"f_{s.key}"))[0] for s in self.specs}
        outcome = conditions.apply(self.specs, stored)
        self.hidden_keys = outcome.hidden
        for key in outcome.hidden:  # not shown: whatever came is dropped, errors included
            self.errors.pop(f"f_{key}", None)
            data[f"f_{key}"] = None
        for key, message in outcome.errors.items():
            if f"f_{key}" not in self.errors:
                self.add_error(f"f_{key}", message)
        return data

    @property
    def uploads(self) -> dict[str, Any]:
        return {
            s.key: self.cleaned_data.get(f"f_{s.key}")
            for s in self.specs
            if s.kind == K.ATTACHMENT and s.key not in self.hidden_keys
        }

    def answers(self) -> list[dict[str, Any]]:
        """The cleaned answers, JSON-ready, each with a readable text (in the active language)."""
        rows = []
        for spec in self.specs:
            if spec.key in self.hidden_keys:
                continue  # not shown, not stored
            value = self.cleaned_data.get(f"f_{spec.key}")
            stored, text = _render(spec, value)
            rows.append(
                {
                    "key": spec.key,
                    "kind": spec.kind,
                    "label_fr": spec.label_fr,
                    "label_en": spec.label_en,
                    "value": stored,
                    "text": text,
                }
            )
        return rows


def _render(spec: ItemField, value: Any) -> tuple[Any, str]:
    """(JSON value, readable text) of one cleaned answer."""
    if spec.kind == K.CHECKBOX:
        return (True, _("Yes")) if value else (False, _("No"))
    if value in (None, "", []):
        return None, "—"
    if spec.kind == K.NUMBER:
        number = Decimal(value).normalize()
        return str(number), f"{number:f}"
    if spec.kind == K.DATE:
        assert isinstance(value, datetime.date)
        return value.isoformat(), date_format(value, "DATE_FORMAT")
    if spec.kind in (K.CHOICE, K.MULTIPLE):
        labels = dict(spec.choice_pairs())
        values = value if isinstance(value, list) else [value]
        return (values if spec.kind == K.MULTIPLE else value), ", ".join(str(labels.get(v, v)) for v in values)
    if spec.kind == K.PERSON:
        return {"id": value.pk, "email": value.email}, f"{value.display_name} <{value.email}>"
    if spec.kind == K.ATTACHMENT:
        return {"name": value.name}, value.name
    if spec.kind == K.ASSET:
        return {"id": value.pk, "tag": value.tag}, f"{value.tag} · {value.name}"
    return str(value), str(value)
