"""Forms of the agent workspace: queue filters, reply box, status change, administration."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import MultipleFileField, StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import Organisation, SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.rules import allowed_targets
from palier.tickets.selectors import TicketFilters

OPEN = ""
ALL = "all"
SORT_CHOICES = [
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("priority", _("Most urgent first")),
    ("-updated", _("Recently updated")),
    ("updated", _("Least recently updated")),
]


class FilterForm(StyledForm):
    """The queue's filters (GET). Groups and agents are passed in so the form never queries."""

    q = forms.CharField(label=_("Search"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    group = forms.TypedChoiceField(label=_("Group"), required=False, coerce=int, empty_value=None)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)
    cursor = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, groups: list[SupportGroup], agents: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (OPEN, _("All open")),
            (ALL, _("Any status")),
            *Ticket.Status.choices,
        ]
        cast(forms.ChoiceField, self.fields["group"]).choices = [
            ("", _("All groups")),
            *((g.pk, str(g)) for g in groups),
        ]
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Unassigned")),
            *((str(a.pk), a.display_name) for a in agents),
        ]

    def to_filters(self, user: User) -> TicketFilters:
        data = self.cleaned_data if self.is_valid() else {}
        status = data.get("status", OPEN)
        assignee = data.get("assignee", "")
        return TicketFilters(
            status=[status] if status not in (OPEN, ALL) else [],
            open_only=status == OPEN,
            group=data.get("group"),
            assignee=user.pk if assignee == "me" else (int(assignee) if assignee.isdigit() else None),
            unassigned=assignee == "none",
            q=data.get("q", ""),
        )

    @property
    def sort_order(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else None) or "-created"

    @property
    def page_cursor(self) -> str | None:
        return (self.cleaned_data.get("cursor") if self.is_valid() else None) or None


class ReplyForm(StyledForm):
    PUBLIC = "public"
    INTERNAL = "internal"

    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), max_length=100_000)
    visibility = forms.ChoiceField(
        label=_("Who can read it?"),
        choices=[(PUBLIC, _("Public reply (the requester sees it)")), (INTERNAL, _("Internal note (agents only)"))],
        widget=forms.RadioSelect,
        initial=PUBLIC,
    )
    attachments = MultipleFileField(label=_("Attachments"))


class StatusForm(StyledForm):
    status = forms.ChoiceField(label=_("New status"))
    note = forms.CharField(label=_("Note (optional)"), max_length=2000, required=False)
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = allowed_targets(ticket.status, as_requester=False)
        cast(forms.ChoiceField, self.fields["status"]).choices = [
            (v, label) for v, label in Ticket.Status.choices if v in allowed
        ]


class VersionForm(StyledForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


# --- administration -------------------------------------------------------------------------------


class UserForm(StyledForm):
    email = forms.EmailField(label=_("Email address"))
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), choices=User.Role.choices, initial=User.Role.REQUESTER)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.order_by("name"), required=False
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("", _("Browser's")), *User.Language.choices], required=False
    )
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        required=False,
        help_text=_("Leave empty for a user who signs in otherwise (e.g. by email link, later)."),
    )


class OrganisationForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    email_domain = forms.CharField(label=_("Email domain"), max_length=200, required=False)
    share_tickets = forms.BooleanField(label=_("Members see each other's tickets"), required=False)


class GroupForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    level = forms.TypedChoiceField(label=_("Level"), choices=SupportGroup.Level.choices, coerce=int, initial=1)
    is_vendor = forms.BooleanField(label=_("External vendor (L4 and L5 only)"), required=False)
    members = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=people_selectors.active_agents(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
