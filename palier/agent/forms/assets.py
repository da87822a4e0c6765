"""Forms of the asset pages: the list's filters, an asset's form (with its type's own fields),
assignment, relationships, files, and the administration of types, locations and suppliers."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from palier.assets import selectors
from palier.assets.models import Asset, AssetType, Location, Relationship, Supplier
from palier.lib.web import StyledForm
from palier.people import selectors as people
from palier.people.models import User

DATE = {"type": "date"}
BLANK = [("", "—")]


def find_person(text: str) -> User | None:
    """An active person by id or email address."""
    text = (text or "").strip()
    if text.isdigit():
        return people.find_active_user(int(text))
    if "@" in text:
        found = people.active_people_with_emails(emails=[text, text.lower()])
        return found[0] if found else None
    return None


def _choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _location_choices() -> list[tuple[str, str]]:
    return [*BLANK, *((str(pk), path) for pk, path in selectors.locations().values_list("pk", "path"))]


class AssetFilterForm(StyledForm):
    q = forms.CharField(label=_("Search"), max_length=200, required=False, help_text=_("Tag, name, serial, model."))
    type = forms.ChoiceField(label=_("Type"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[*BLANK, *Asset.Status.choices])
    location = forms.ChoiceField(label=_("Location"), required=False)
    owner_group = forms.ChoiceField(label=_("Owner group"), required=False)
    person = forms.CharField(label=_("Used by"), max_length=254, required=False, help_text=_("Email or id."))
    unowned = forms.BooleanField(label=_("No owner"), required=False)
    warranty_before = forms.DateField(label=_("Warranty ends before"), required=False, widget=forms.DateInput(DATE))
    inventory_before = forms.DateField(label=_("No inventory since"), required=False, widget=forms.DateInput(DATE))
    after = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "type", [*BLANK, *((t.slug, t.name) for t in selectors.all_types())])
        _choices(self, "location", _location_choices())
        groups = people.groups_by_name().values_list("pk", "name")
        _choices(self, "owner_group", [*BLANK, *((str(pk), name) for pk, name in groups)])

    def to_filters(self) -> selectors.AssetFilters:
        """The filters of a valid form; an invalid field is ignored (the page says why)."""
        data = self.cleaned_data if self.is_valid() else {}
        assigned: int | None = None
        if data.get("person"):
            person = find_person(data["person"])
            assigned = person.pk if person is not None else 0  # nobody: an empty list
        return selectors.AssetFilters(
            q=data.get("q") or "",
            type=data.get("type") or "",
            status=(data["status"],) if data.get("status") else (),
            assigned_to=assigned,
            location=int(data["location"]) if data.get("location") else None,
            owner_group=int(data["owner_group"]) if data.get("owner_group") else None,
            unowned=bool(data.get("unowned")),
            warranty_before=data.get("warranty_before"),
            inventory_before=data.get("inventory_before"),
        )

    def cursor(self) -> str | None:
        return (self.cleaned_data.get("after") or None) if self.is_valid() else None


def _type_field(definition: dict[str, Any]) -> forms.Field:
    french = (get_language() or "fr").startswith("fr")
    label = definition["label_fr"] if french else definition["label_en"]
    kind, required = definition["type"], bool(definition.get("required"))
    if kind == "choice":
        return forms.ChoiceField(
            label=label, required=required, choices=[*BLANK, *((c, c) for c in definition["choices"])]
        )
    if kind == "bool":
        return forms.ChoiceField(label=label, required=False, choices=[*BLANK, ("yes", _("yes")), ("no", _("no"))])
    if kind == "date":
        return forms.CharField(label=label, required=required, widget=forms.DateInput(DATE))
    if kind == "number":
        return forms.CharField(label=label, required=required, widget=forms.TextInput({"inputmode": "decimal"}))
    return forms.CharField(label=label, required=required, max_length=1000)


class AssetForm(StyledForm):
    """Create or edit an asset. The type is chosen before the form (its fields depend on it)."""

    tag = forms.CharField(label=_("Asset tag"), max_length=64)
    name = forms.CharField(label=_("Name"), max_length=200)
    serial = forms.CharField(label=_("Serial number"), max_length=120, required=False)
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=120, required=False)
    model = forms.CharField(label=_("Model"), max_length=200, required=False)
    assigned_to = forms.CharField(label=_("Used by"), max_length=254, required=False, help_text=_("Email or id."))
    location = forms.ChoiceField(label=_("Location"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    owner_group = forms.ChoiceField(label=_("Owner group"), required=False)
    supplier = forms.ChoiceField(label=_("Supplier"), required=False)
    purchase_date = forms.DateField(label=_("Purchase date"), required=False, widget=forms.DateInput(DATE))
    purchase_cost = forms.CharField(label=_("Purchase cost"), max_length=20, required=False)
    warranty_end = forms.DateField(label=_("End of warranty"), required=False, widget=forms.DateInput(DATE))
    criticality = forms.ChoiceField(
        label=_("Criticality"), required=False, choices=[*BLANK, *Asset.Criticality.choices]
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=20000, widget=forms.Textarea({"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, asset_type: AssetType, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asset_type = asset_type
        _choices(self, "location", _location_choices())
        self._pick("organisation", {o.pk: o for o in people.organisations_by_name()}, str)
        departments = {d.pk: d for d in people.departments_with_organisation()}
        self._pick("department", departments, lambda d: f"{d.organisation.name} › {d.name}")
        self._pick("owner_group", {g.pk: g for g in people.groups_by_name()}, str)
        self._pick("supplier", {s.pk: s for s in selectors.suppliers()}, str)
        if asset_type.family != AssetType.Family.SERVICE:
            del self.fields["criticality"]
        for definition in asset_type.fields:
            self.fields[f"attr_{definition['key']}"] = _type_field(definition)
        for name, field in self.fields.items():
            if name.startswith("attr_"):
                css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
                field.widget.attrs.setdefault("class", css)

    def _pick(self, name: str, rows: dict[int, Any], label: Any) -> None:
        setattr(self, f"_{name}_rows", rows)
        _choices(self, name, [*BLANK, *((str(pk), label(row)) for pk, row in rows.items())])

    def _row(self, name: str) -> Any:
        value = self.cleaned_data.get(name)
        if name == "location":
            return selectors.get_location(int(value)) if value else None
        return getattr(self, f"_{name}_rows").get(int(value)) if value else None

    def clean_assigned_to(self) -> User | None:
        text = self.cleaned_data.get("assigned_to", "")
        if not text:
            return None
        person = find_person(text)
        if person is None:
            raise ValidationError(_("No active person has this email or id."))
        return person

    def to_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            key: data.get(key)
            for key in ("tag", "name", "serial", "manufacturer", "model", "purchase_date", "warranty_end", "notes")
        }
        values["purchase_cost"] = data.get("purchase_cost") or None
        values["assigned_to"] = data.get("assigned_to")
        for name in ("location", "organisation", "department", "owner_group", "supplier"):
            values[name] = self._row(name)
        if "criticality" in self.fields:
            values["criticality"] = data.get("criticality") or ""
        attributes: dict[str, Any] = {}
        for definition in self.asset_type.fields:
            raw = data.get(f"attr_{definition['key']}")
            if definition["type"] == "bool" and raw:
                raw = raw == "yes"
            attributes[definition["key"]] = raw if raw not in ("", None) else None
        values["attributes"] = attributes
        return values

    @staticmethod
    def initial_for(asset: Asset) -> dict[str, Any]:
        initial: dict[str, Any] = {
            key: getattr(asset, key)
            for key in (
                "tag",
                "name",
                "serial",
                "manufacturer",
                "model",
                "purchase_date",
                "purchase_cost",
                "warranty_end",
                "notes",
                "criticality",
                "version",
            )
        }
        initial["assigned_to"] = asset.assigned_to.email if asset.assigned_to else ""
        for name in ("location", "organisation", "department", "owner_group", "supplier"):
            initial[name] = getattr(asset, f"{name}_id") or ""
        for key, value in (asset.attributes or {}).items():
            initial[f"attr_{key}"] = ("yes" if value else "no") if isinstance(value, bool) else value
        return initial


class AssignForm(StyledForm):
    person = forms.CharField(
        label=_("Used by"), max_length=254, required=False, help_text=_("Email or id; empty: nobody.")
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def clean_person(self) -> User | None:
        text = self.cleaned_data.get("person", "")
        if not text:
            return None
        person = find_person(text)
        if person is None:
            raise ValidationError(_("No active person has this email or id."))
        return person


class RelationForm(StyledForm):
    kind = forms.ChoiceField(label=_("This item"), choices=Relationship.Kind.choices)
    target = forms.CharField(label=_("Item (tag)"), max_length=64)


class FileForm(StyledForm):
    file = forms.FileField(label=_("File"))


# --- administration ---------------------------------------------------------------------------

FIELDS_HELP = _(
    'A JSON list, one object per field: {"key": "cpu", "label_fr": "Processeur", "label_en": "Processor", '
    '"type": "text"}. Types: text, number, date, bool, choice (with "choices": [...]); "required": true.'
)


class TypeForm(StyledForm):
    name_fr = forms.CharField(label=_("Name (French)"), max_length=120)
    name_en = forms.CharField(label=_("Name (English)"), max_length=120)
    slug = forms.SlugField(
        label=_("Identifier"), max_length=60, required=False, help_text=_("From the English name when empty.")
    )
    family = forms.ChoiceField(label=_("Family"), choices=AssetType.Family.choices)
    inventoried = forms.BooleanField(label=_("Reported by inventory"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    definitions = forms.CharField(
        label=_("Fields"),
        required=False,
        widget=forms.Textarea({"rows": 10, "class": "form-control font-monospace"}),
        help_text=FIELDS_HELP,
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]
        else:
            del self.fields["active"]

    def clean_definitions(self) -> list[Any]:
        text = (self.cleaned_data.get("definitions") or "").strip() or "[]"
        try:
            return json.loads(text)  # type: ignore[no-any-return]
        except ValueError as exc:
            raise ValidationError(_("This is not valid JSON: %(error)s.") % {"error": exc}) from None

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["fields"] = data.pop("definitions")
        return data

    @staticmethod
    def initial_for(asset_type: AssetType) -> dict[str, Any]:
        return {
            "name_fr": asset_type.name_fr,
            "name_en": asset_type.name_en,
            "family": asset_type.family,
            "inventoried": asset_type.inventoried,
            "active": asset_type.active,
            "definitions": json.dumps(asset_type.fields, ensure_ascii=False, indent=2),
        }


class LocationForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=Location.Kind.choices)
    parent = forms.ChoiceField(label=_("Inside"), required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "parent", _location_choices())

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["parent"] = selectors.get_location(int(data["parent"])) if data.get("parent") else None
        return data


class SupplierForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    email = forms.EmailField(label=_("Contact email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea({"rows": 3}))

    @staticmethod
    def initial_for(supplier: Supplier) -> dict[str, Any]:
        return {key: getattr(supplier, key) for key in ("name", "email", "phone", "website", "notes")}
