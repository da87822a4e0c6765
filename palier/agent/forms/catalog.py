"""Forms of the catalog administration: items, fields, approval stages and task templates."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from palier.catalog import selectors as catalog_selectors
from palier.catalog.models import ApprovalStage, CatalogCategory, CatalogItem, ItemField, TaskTemplate
from palier.lib.web import StyledFormMixin
from palier.people import selectors as people_selectors

K = ItemField.Kind


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
        self.fields["category"].queryset = catalog_selectors.all_categories()  # type: ignore[attr-defined]
        self.fields["organisations"].queryset = people_selectors.organisations_by_name()  # type: ignore[attr-defined]
        self.fields["groups"].queryset = people_selectors.support_groups()  # type: ignore[attr-defined]

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
        fields = ["kind", "group", "rule", "quorum"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["people_emails"] = "\n".join(self.instance.people.values_list("email", flat=True))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        emails = [e.strip().lower() for e in (data.get("people_emails") or "").replace(",", "\n").splitlines()]
        emails = [e for e in emails if e]
        found = people_selectors.active_people_with_emails(emails=emails)
        missing = sorted(set(emails) - {u.email.lower() for u in found})
        if missing:
            self.add_error("people_emails", _("Unknown people: %(emails)s.") % {"emails": ", ".join(missing)})
        kind = data.get("kind")
        if kind == ApprovalStage.Kind.PEOPLE and not emails:
            self.add_error("people_emails", _("Name at least one person."))
        if kind == ApprovalStage.Kind.GROUP and not data.get("group"):
            self.add_error("group", _("Choose the group."))
        if data.get("rule") == ApprovalStage.Rule.QUORUM and not data.get("quorum"):
            self.add_error("quorum", _("Say how many approvals make the quorum."))
        if data.get("rule") != ApprovalStage.Rule.QUORUM:
            data["quorum"] = None
        data["people"] = found
        return data


class TaskForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = TaskTemplate
        fields = ["subject_fr", "subject_en", "group"]


def choices_json(choices: list[dict[str, str]]) -> str:
    return json.dumps(choices, ensure_ascii=False)
