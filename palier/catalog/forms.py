"""Forms: the request form built from an item's fields, the approval decision form, and the admin
forms for items, fields, approval stages and task templates."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from palier.catalog.models import ApprovalStage, CatalogCategory, CatalogItem, ItemField, TaskTemplate
from palier.lib.web import StyledForm, StyledFormMixin
from palier.people.models import Organisation, SupportGroup, User

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


def _form_field(spec: ItemField, people: Any) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "help_text": spec.help, "required": spec.required}
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


class RequestForm(StyledFormMixin, forms.Form):
    """The form of one catalog item: one control per field, validated by type."""

    def __init__(self, *args: Any, specs: list[ItemField], people: Any, **kwargs: Any) -> None:
        self.specs = specs
        # the fields exist before Django copies them, so the mixin gives each its Bootstrap class
        self.base_fields = {f"f_{spec.key}": _form_field(spec, people) for spec in specs}  # type: ignore[misc]  # per-instance fields
        super().__init__(*args, **kwargs)

    @property
    def uploads(self) -> dict[str, Any]:
        return {s.key: self.cleaned_data.get(f"f_{s.key}") for s in self.specs if s.kind == K.ATTACHMENT}

    def answers(self) -> list[dict[str, Any]]:
        """The cleaned answers, JSON-ready, each with a readable text (in the active language)."""
        rows = []
        for spec in self.specs:
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
    return str(value), str(value)


class DecisionForm(StyledForm):
    comment = forms.CharField(
        label=_l("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_l("Required to reject: the requester reads it."),
    )


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    category = forms.IntegerField(required=False, min_value=1)


# --- admin -------------------------------------------------------------------------------------------


class ItemForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CatalogItem
        fields = [
            "slug", "name_fr", "name_en", "description_fr", "description_en", "category", "icon", "is_active",
            "visibility", "organisations", "groups", "target_group", "ticket_category", "impact", "urgency",
            "fulfilment", "order",
        ]  # fmt: skip
        widgets = {
            "description_fr": forms.Textarea(attrs={"rows": 3}),
            "description_en": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = CatalogCategory.objects.all()  # type: ignore[attr-defined]
        self.fields["organisations"].queryset = Organisation.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["groups"].queryset = SupportGroup.objects.all()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        visibility = data.get("visibility")
        if visibility == CatalogItem.Visibility.ORGANISATIONS and not data.get("organisations"):
            self.add_error("organisations", _("Choose at least one organisation."))
        if visibility == CatalogItem.Visibility.GROUPS and not data.get("groups"):
            self.add_error("groups", _("Choose at least one group."))
        return data


class CategoryForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = CatalogCategory
        fields = ["name_fr", "name_en", "order"]


class FieldForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    choices_text = forms.CharField(
        label=_l("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_l("Single and multiple choice: one per line, “value | French | English”."),
    )

    class Meta:
        model = ItemField
        fields = [
            "key", "kind", "label_fr", "label_en", "help_fr", "help_en", "required", "min_value", "max_value",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.choices:
            lines = [f"{c.get('value', '')} | {c.get('fr', '')} | {c.get('en', '')}" for c in self.instance.choices]
            self.initial["choices_text"] = "\n".join(lines)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choices = parse_choices(data.get("choices_text", ""))
        if data.get("kind") in (K.CHOICE, K.MULTIPLE) and not choices:
            self.add_error("choices_text", _("Give at least one choice."))
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", _("The maximum is below the minimum."))
        data["choices"] = choices
        return data


def parse_choices(text: str) -> list[dict[str, str]]:
    result = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts or not parts[0]:
            continue
        value = parts[0]
        fr = parts[1] if len(parts) > 1 and parts[1] else value
        en = parts[2] if len(parts) > 2 and parts[2] else fr
        result.append({"value": value, "fr": fr, "en": en})
    return result


class StageForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    people_emails = forms.CharField(
        label=_l("People (email addresses)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_l("Named people: one address per line."),
    )

    class Meta:
        model = ApprovalStage
        fields = ["kind", "group", "rule"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["people_emails"] = "\n".join(self.instance.people.values_list("email", flat=True))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        emails = [e.strip().lower() for e in (data.get("people_emails") or "").replace(",", "\n").splitlines()]
        emails = [e for e in emails if e]
        found = list(User.objects.filter(email__in=emails, is_active=True))
        missing = sorted(set(emails) - {u.email.lower() for u in found})
        if missing:
            self.add_error("people_emails", _("Unknown people: %(emails)s.") % {"emails": ", ".join(missing)})
        kind = data.get("kind")
        if kind == ApprovalStage.Kind.PEOPLE and not emails:
            self.add_error("people_emails", _("Name at least one person."))
        if kind == ApprovalStage.Kind.GROUP and not data.get("group"):
            self.add_error("group", _("Choose the group."))
        data["people"] = found
        return data


class TaskForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = TaskTemplate
        fields = ["subject_fr", "subject_en", "group"]


def choices_json(choices: list[dict[str, str]]) -> str:
    return json.dumps(choices, ensure_ascii=False)
