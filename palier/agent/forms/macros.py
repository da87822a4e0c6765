"""The macro form. Agents only see "Only me" as visibility; admins may share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.macros import placeholders
from palier.macros.models import Macro
from palier.macros.services import TARGET_STATUSES, MacroFields
from palier.people import selectors as people_selectors
from palier.tickets.models import Level, Ticket
from palier.worklist import selectors as worklist_selectors

UNCHANGED = [("", _("Unchanged"))]


def placeholder_help() -> str:
    return " ".join(f"{{{name}}}" for name in placeholders.PLACEHOLDERS)


class MacroForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    body_fr = forms.CharField(label=_("Text in French"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    body_en = forms.CharField(label=_("Text in English"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    visibility = forms.ChoiceField(label=_("Who can use it"), choices=Macro.Visibility.choices)
    group = forms.ModelChoiceField(
        label=_("Shared with the group"), queryset=people_selectors.groups_by_name(), required=False
    )
    set_status = forms.ChoiceField(label=_("Set the status"), required=False)
    set_impact = forms.ChoiceField(label=_("Set the impact"), choices=UNCHANGED + list(Level.choices), required=False)
    set_urgency = forms.ChoiceField(label=_("Set the urgency"), choices=UNCHANGED + list(Level.choices), required=False)
    set_group = forms.ModelChoiceField(
        label=_("Move to the group"), queryset=people_selectors.groups_by_name(), required=False
    )
    set_assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=people_selectors.staff(),
        required=False,
    )
    add_tags = forms.CharField(
        label=_("Tags to add"), required=False, help_text=_("Separated by commas."), max_length=1000
    )
    add_task_template = forms.ModelChoiceField(
        label=_("Add the tasks of the template"), queryset=worklist_selectors.template_choices(), required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, can_share: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        help_text = _("Placeholders: %(list)s") % {"list": placeholder_help()}
        self.fields["body_fr"].help_text = help_text
        self.fields["body_en"].help_text = help_text
        statuses = [(v, label) for v, label in Ticket.Status.choices if v in TARGET_STATUSES]
        self.fields["set_status"].choices = UNCHANGED + statuses  # type: ignore[attr-defined]
        self.fields["set_group"].empty_label = str(UNCHANGED[0][1])  # type: ignore[attr-defined]
        self.fields["set_assignee"].empty_label = str(UNCHANGED[0][1])  # type: ignore[attr-defined]
        self.fields["add_task_template"].empty_label = "—"  # type: ignore[attr-defined]
        if not can_share:
            self.fields["visibility"].choices = [Macro.Visibility.choices[0]]  # type: ignore[attr-defined]
            del self.fields["group"]

    @classmethod
    def initial_for(cls, macro: Macro) -> dict[str, Any]:
        return {
            "name": macro.name,
            "body_fr": macro.body_fr,
            "body_en": macro.body_en,
            "visibility": macro.visibility,
            "group": macro.group_id,
            "set_status": macro.set_status,
            "set_impact": macro.set_impact,
            "set_urgency": macro.set_urgency,
            "set_group": macro.set_group_id,
            "set_assignee": macro.set_assignee_id,
            "add_tags": ", ".join(macro.add_tags),
            "add_task_template": macro.add_task_template_id,
            "is_active": macro.is_active,
        }

    def to_fields(self) -> MacroFields:
        data = self.cleaned_data
        return MacroFields(
            name=data["name"],
            body_fr=data["body_fr"],
            body_en=data["body_en"],
            visibility=data["visibility"],
            group=data.get("group"),
            set_status=data["set_status"],
            set_impact=data["set_impact"],
            set_urgency=data["set_urgency"],
            set_group=data["set_group"],
            set_assignee=data["set_assignee"],
            add_tags=[t for t in data["add_tags"].split(",") if t.strip()],
            add_task_template=data["add_task_template"],
            is_active=data["is_active"],
        )
