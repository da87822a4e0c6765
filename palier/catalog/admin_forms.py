"""Forms of the catalog administration: items, fields, approval stages and task templates.

The pages (``palier/agent/views/catalog.py``) and the API (``palier/api/admin/catalog.py``) both
validate through them before calling ``catalog.services``, so both give the same messages."""

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
            "fulfilment", "order", "remind_after_hours",
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
        self.fields["remind_after_hours"].required = False

    def clean_remind_after_hours(self) -> int:
        return int(self.cleaned_data.get("remind_after_hours") or 0)

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


OP_CHOICES = [
    ("", "—"),
    ("equals", _l("is")),
    ("one_of", _l("is one of")),
    ("not_empty", _l("is answered")),
    ("true", _l("is ticked")),
    ("false", _l("is not ticked")),
]


def _rule_fields(name: str, label: Any) -> dict[str, forms.Field]:
    return {
        f"{name}_field": forms.SlugField(
            label=label, required=False, max_length=50, help_text=_l("The key of an earlier field; empty: always.")
        ),
        f"{name}_op": forms.ChoiceField(label=_l("its answer"), required=False, choices=OP_CHOICES),
        f"{name}_value": forms.CharField(
            label=_l("value"),
            required=False,
            max_length=500,
            help_text=_l("With “is one of”: values separated by commas."),
        ),
    }


class FieldForm(StyledFormMixin, forms.ModelForm):  # type: ignore[type-arg]
    """A field of an item, with its conditions (``palier/catalog/conditions.py``): shown only
    when, required only when an earlier field's answer matches; options filtered by an earlier
    single choice. The service checks them against the item's other fields."""

    choices_text = forms.CharField(
        label=_l("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_l("Single and multiple choice: one per line, “value | French | English”."),
    )
    locals().update(_rule_fields("show", _l("Show only when the field")))
    locals().update(_rule_fields("require", _l("Required only when the field")))
    filter_field = forms.SlugField(
        label=_l("Filter the options by the field"),
        required=False,
        max_length=50,
        help_text=_l("The key of an earlier single choice."),
    )
    filter_map = forms.CharField(
        label=_l("Options offered for each of its answers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_l("One line per answer: “answer: option, option”."),
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
        rules = self.instance.conditions or {}
        for name in ("show", "require"):
            rule = rules.get(name) or {}
            value = rule.get("value", "")
            self.initial[f"{name}_field"] = rule.get("field", "")
            self.initial[f"{name}_op"] = rule.get("op", "")
            self.initial[f"{name}_value"] = ", ".join(value) if isinstance(value, list) else value
        flt = rules.get("filter") or {}
        self.initial["filter_field"] = flt.get("field", "")
        self.initial["filter_map"] = "\n".join(f"{k}: {', '.join(v)}" for k, v in (flt.get("map") or {}).items())

    def _rule(self, data: dict[str, Any], name: str) -> dict[str, Any] | None:
        key, op, raw = data.get(f"{name}_field"), data.get(f"{name}_op"), (data.get(f"{name}_value") or "").strip()
        if not key and not op:
            return None
        if not key:
            self.add_error(f"{name}_field", _("Name the field it depends on."))
            return None
        if not op:
            self.add_error(f"{name}_op", _("Say what its answer must be."))
            return None
        rule: dict[str, Any] = {"field": key, "op": op}
        if op == "one_of":
            rule["value"] = [v.strip() for v in raw.split(",") if v.strip()]
        elif op == "equals":
            rule["value"] = raw
        return rule

    def _filter(self, data: dict[str, Any]) -> dict[str, Any] | None:
        key, text = data.get("filter_field"), data.get("filter_map") or ""
        if not key:
            return None
        mapping: dict[str, list[str]] = {}
        for line in text.splitlines():
            answer, sep, options = line.partition(":")
            if not line.strip():
                continue
            if not sep or not answer.strip():
                self.add_error("filter_map", _("Write each line as “answer: option, option”."))
                return None
            mapping[answer.strip()] = [o.strip() for o in options.split(",") if o.strip()]
        return {"field": key, "map": mapping}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rules = {"show": self._rule(data, "show"), "require": self._rule(data, "require"), "filter": self._filter(data)}
        data["conditions"] = {name: rule for name, rule in rules.items() if rule}
        data["choices"] = parse_choices(data.get("choices_text", ""))
        self._check(data, choices_field="choices_text")
        return data

    def _check(self, data: dict[str, Any], *, choices_field: str) -> None:
        """The rules of a field's own values, whichever way its choices and conditions came."""
        if data.get("kind") in (K.CHOICE, K.MULTIPLE) and not data.get("choices"):
            self.add_error(choices_field, _("Give at least one choice."))
        low, high = data.get("min_value"), data.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", _("The maximum is below the minimum."))


class FieldDataForm(FieldForm):
    """``FieldForm`` for callers that send the choices and conditions as data (the API):
    ``choices`` a list of ``{value, fr, en}``, ``conditions`` the JSON of
    ``catalog/conditions.py``, already of the right shape; the same checks follow."""

    choices = forms.JSONField(required=False)  # only to carry its messages: the list is given

    def __init__(self, *args: Any, choices: list[dict[str, str]], conditions: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choices = choices
        self._conditions = conditions

    def clean(self) -> dict[str, Any]:
        data = forms.ModelForm.clean(self) or {}
        data["conditions"] = {name: rule for name, rule in self._conditions.items() if rule}
        data["choices"] = [
            {"value": c["value"], "fr": c.get("fr") or c["value"], "en": c.get("en") or c.get("fr") or c["value"]}
            for c in self._choices
        ]
        self._check(data, choices_field="choices")
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
        fields = ["kind", "group", "rule", "quorum", "with_previous"]

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
