"""Forms of the routing pages (rules, defaults, team, availability). They parse and label; the
services check what needs the database."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.assets.models import Asset
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import Department, SupportGroup
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Category, Ticket

PRIORITIES = [("", _("Any")), *((str(p), f"P{p}") for p in range(1, 5))]
SET_PRIORITIES = [("", _("Keep")), *((str(p), f"P{p}") for p in range(1, 5))]


class CategoryField(forms.ModelChoiceField[Category]):
    def label_from_instance(self, obj: Category) -> str:
        return f"— {obj.name}" if obj.parent_id else obj.name


class DepartmentField(forms.ModelChoiceField[Department]):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.organisation.name} · {obj.name}"


def _categories(label: Any, empty: Any) -> CategoryField:
    return CategoryField(
        label=label,
        queryset=ticket_selectors.active_categories_by_slug(),
        required=False,
        empty_label=empty,
    )


class RuleForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    kind = forms.ChoiceField(label=_("Type"), choices=[("", _("Any")), *Ticket.Kind.choices], required=False)
    category = _categories(_("Category (or one of its subcategories)"), _("Any"))
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", _("Any")), *Ticket.Channel.choices], required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=people_selectors.organisations_by_name(), required=False, empty_label=_("Any")
    )
    department = DepartmentField(
        label=_("Requester's department"),
        queryset=people_selectors.departments_with_organisation(),
        required=False,
        empty_label=_("Any"),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=PRIORITIES, coerce=int, empty_value=None, required=False
    )
    words = forms.CharField(
        label=_("Words in the subject or description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Any of these words, separated by commas; accents and case are ignored; “imprim” matches “imprimante”."
        ),
    )
    mailbox = forms.CharField(
        label=_("Receiving mailbox"),
        required=False,
        max_length=254,
        help_text=_("For the email channel (coming later): the address that received the message."),
    )
    asset_type = forms.CharField(
        label=_("Linked asset type"),
        required=False,
        max_length=60,
        help_text=_("The identifier of an asset type, e.g. laptop: a linked asset of this type."),
    )
    asset_status = forms.ChoiceField(
        label=_("Linked asset status"), choices=[("", _("Any")), *Asset.Status.choices], required=False
    )
    asset_location = forms.CharField(
        label=_("Linked asset location"),
        required=False,
        max_length=600,
        help_text=_("A place as its full name, e.g. “Lyon › Bâtiment A”: a linked asset there or under it."),
    )
    business_service = forms.CharField(
        label=_("Business service"),
        required=False,
        max_length=200,
        help_text=_("The tag or name of a business service a linked asset supports."),
    )
    group = forms.ModelChoiceField(label=_("Send to the group"), queryset=people_selectors.support_groups())
    set_category = _categories(_("Set the category (when the ticket has none)"), _("Keep"))
    set_priority = forms.TypedChoiceField(
        label=_("Set the priority"), choices=SET_PRIORITIES, coerce=int, empty_value=None, required=False
    )
    add_tags = forms.CharField(label=_("Add tags"), required=False, max_length=500, help_text=_("Separated by commas."))


class CategoryDefaultForm(StyledForm):
    category = CategoryField(label=_("Category"), queryset=ticket_selectors.active_categories_by_slug())
    level = forms.TypedChoiceField(label=_("Level"), choices=SupportGroup.Level.choices, coerce=int)
    group = forms.ModelChoiceField(label=_("Group"), queryset=people_selectors.support_groups())


class VersionForm(forms.Form):
    version = forms.IntegerField(required=False)


class AbsenceForm(StyledForm):
    start = forms.DateTimeField(label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class AvailabilityForm(forms.Form):
    available = forms.BooleanField(required=False)
