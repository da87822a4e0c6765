"""Forms of the administration pages: users, organisations, departments, groups, categories and
the priority matrix. Services do the checks that need the database; forms parse and label."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import Department, Organisation, SupportGroup, User
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Category, Level

LANGUAGE_CHOICES = [("", _("Browser's")), *User.Language.choices]


class DepartmentChoiceField(forms.ModelChoiceField[Department]):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.organisation.name} › {obj.name}"


def _organisation_field() -> forms.ModelChoiceField[Organisation]:
    return forms.ModelChoiceField(
        label=_("Organisation"), queryset=people_selectors.organisations_by_name(), required=False
    )


def _department_field() -> DepartmentChoiceField:
    return DepartmentChoiceField(
        label=_("Department"),
        queryset=people_selectors.departments_with_organisation(),
        required=False,
        help_text=_("It must belong to the organisation chosen above."),
    )


class UserCreateForm(StyledForm):
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, initial=User.Role.REQUESTER)
    organisation = _organisation_field()
    department = _department_field()
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        required=False,
        help_text=_("Leave empty for a user who signs in otherwise (e.g. by email link, later)."),
    )


class UserEditForm(StyledForm):
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices)
    organisation = _organisation_field()
    department = _department_field()
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)


class UserFilterForm(StyledForm):
    """The user list's search (GET)."""

    q = forms.CharField(label=_("Search users"), max_length=200, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=[("", _("Any role")), *User.Role.choices], required=False)
    active = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Active and deactivated")), ("1", _("Active")), ("0", _("Deactivated"))],
        required=False,
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def query(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_valid() else {}
        active = data.get("active", "")
        return {
            "q": data.get("q", ""),
            "role": data.get("role", ""),
            "active": None if active == "" else active == "1",
            "before": data.get("before"),
        }


class OrganisationForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    email_domain = forms.CharField(label=_("Email domain"), max_length=200, required=False)
    share_tickets = forms.BooleanField(label=_("Members see each other's tickets"), required=False)


class DepartmentForm(StyledForm):
    name = forms.CharField(label=_("Department name"), max_length=200)


class GroupCreateForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    level = forms.TypedChoiceField(label=_("Level"), choices=SupportGroup.Level.choices, coerce=int, initial=1)
    is_vendor = forms.BooleanField(label=_("External vendor (L4 and L5 only)"), required=False)
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=people_selectors.active_agents(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class GroupEditForm(GroupCreateForm):
    email = forms.EmailField(label=_("Contact email"), required=False)
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=people_selectors.active_agents(), required=False, empty_label=_("No manager")
    )
    assignment_strategy = forms.ChoiceField(
        label=_("Assignment of new tickets"), choices=SupportGroup.Strategy.choices, initial="manual", required=False
    )
    escalation_group = forms.ModelChoiceField(
        label=_("Escalates to"),
        queryset=people_selectors.support_groups(),
        required=False,
        empty_label=_("The next level's default group"),
    )
    internal_target_minutes = forms.IntegerField(
        label=_("Internal target (business minutes)"), min_value=1, required=False
    )
    vendor_company = forms.CharField(label=_("Vendor company"), max_length=200, required=False)
    vendor_contacts = forms.CharField(
        label=_("Vendor contact emails (one per line)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    vendor_domains = forms.CharField(
        label=_("Vendor mail domains (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example vendor.com; sub-domains are not included, list each one."),
    )
    vendor_accept_domain = forms.BooleanField(
        label=_("Accept replies from any address at these domains"),
        required=False,
        help_text=_("Otherwise only the contact addresses are accepted."),
    )
    vendor_reply_public = forms.BooleanField(
        label=_("The vendor's replies are public replies"),
        required=False,
        help_text=_("Otherwise they are internal notes, which the requester does not see."),
    )
    vendor_reference_pattern = forms.CharField(
        label=_("Vendor reference pattern"),
        max_length=200,
        required=False,
        help_text=_(
            "A regular expression with one group in parentheses around the vendor's reference, "
            "for example Case #(\\d+). Searched in the subject, then the first 4 KB of the body."
        ),
    )
    contract_reference = forms.CharField(label=_("Contract reference"), max_length=100, required=False)
    contract_response_minutes = forms.IntegerField(
        label=_("Contract response target (business minutes)"), min_value=1, required=False
    )
    contract_resolution_minutes = forms.IntegerField(
        label=_("Contract resolution target (business minutes)"), min_value=1, required=False
    )
    field_order = [
        "name",
        "level",
        "is_vendor",
        "email",
        "manager",
        "members",
        "assignment_strategy",
        "escalation_group",
        "internal_target_minutes",
        "vendor_company",
        "vendor_contacts",
        "vendor_domains",
        "vendor_accept_domain",
        "vendor_reply_public",
        "vendor_reference_pattern",
        "contract_reference",
        "contract_response_minutes",
        "contract_resolution_minutes",
    ]


def _parent_field() -> forms.ModelChoiceField[Category]:
    return forms.ModelChoiceField(
        label=_("Parent category"),
        queryset=ticket_selectors.top_level_categories(),
        required=False,
        empty_label=_("None (top level)"),
    )


class CategoryForm(StyledForm):
    name_fr = forms.CharField(label=_("Name in French"), max_length=120)
    name_en = forms.CharField(label=_("Name in English"), max_length=120)
    parent = _parent_field()
    slug = forms.SlugField(
        label=_("Identifier"),
        max_length=80,
        required=False,
        help_text=_("Letters, digits and dashes; made from the English name when left empty."),
    )

    def clean_slug(self) -> str:
        slug = str(self.cleaned_data.get("slug") or "")
        return slug or slugify(str(self.data.get(self.add_prefix("name_en"), "")))[:80]


class CategoryEditForm(StyledForm):
    name_fr = forms.CharField(label=_("Name in French"), max_length=120)
    name_en = forms.CharField(label=_("Name in English"), max_length=120)
    parent = _parent_field()
    position = forms.IntegerField(label=_("Position in lists"), min_value=0, max_value=32767, initial=0)


PRIORITY_CHOICES = [(1, "P1"), (2, "P2"), (3, "P3"), (4, "P4")]


def cell_name(impact: str, urgency: str) -> str:
    return f"{impact}__{urgency}"


class MatrixForm(StyledForm):
    """Nine selects, one per impact x urgency cell, named ``<impact>__<urgency>``."""

    def __init__(self, *args: Any, matrix: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(Level.choices)
        for cell in matrix:
            impact, urgency = cell["impact"], cell["urgency"]
            self.fields[cell_name(impact, urgency)] = forms.TypedChoiceField(
                label=_("Priority when impact is %(impact)s and urgency is %(urgency)s")
                % {"impact": labels[impact], "urgency": labels[urgency]},
                choices=PRIORITY_CHOICES,
                coerce=int,
                initial=cell["priority"],
                widget=forms.Select(attrs={"class": "form-select"}),
            )

    def cells(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for name, value in self.cleaned_data.items():
            impact, _sep, urgency = name.partition("__")
            out[(impact, urgency)] = int(value)
        return out
