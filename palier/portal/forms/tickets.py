"""Forms of the requester portal: asking for help, replying, withdrawing or reopening."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from palier.assets.models import Asset
from palier.lib.uploads import MAX_FILES, file_input_attrs
from palier.lib.web import MultipleFileField, StyledForm
from palier.people.models import User
from palier.tickets import selectors
from palier.tickets.models import Level, Ticket
from palier.tickets.selectors import TicketFilters

S = Ticket.Status

KIND_CHOICES = [
    (Ticket.Kind.INCIDENT, _("Something is not working")),
    (Ticket.Kind.REQUEST, _("I need something (access, equipment, software…)")),
]
IMPACT_CHOICES = [
    (Level.LOW, _("Only me")),
    (Level.MEDIUM, _("Several people or my team")),
    (Level.HIGH, _("Many people or the whole organisation")),
]
URGENCY_CHOICES = [
    (Level.LOW, _("It can wait a few days")),
    (Level.MEDIUM, _("Within a day")),
    (Level.HIGH, _("Right now: work is blocked")),
]


class TicketForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("What is it about?"), choices=KIND_CHOICES, widget=forms.RadioSelect, initial=Ticket.Kind.INCIDENT
    )
    category = forms.ModelChoiceField(label=_("Category"), queryset=selectors.active_categories(), required=False)
    subject = forms.CharField(
        label=_("Subject"), max_length=250, help_text=_("One line, e.g. “The printer on the 2nd floor jams”.")
    )
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=100_000,
        help_text=_("What happened, what you expected, any error message."),
    )
    impact = forms.ChoiceField(
        label=_("Who is affected?"), choices=IMPACT_CHOICES, widget=forms.RadioSelect, initial=Level.LOW
    )
    urgency = forms.ChoiceField(
        label=_("How soon do you need it?"), choices=URGENCY_CHOICES, widget=forms.RadioSelect, initial=Level.LOW
    )
    attachments = MultipleFileField(label=_("Attachments"), max_files=MAX_FILES)
    device = forms.ChoiceField(
        label=_("Which device?"), required=False, help_text=_("The device this is about, if it is one of yours.")
    )

    def __init__(
        self, *args: Any, categories: list[tuple[int, str]], devices: Sequence[Asset] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("I don't know")), *categories]
        # only the requester's own devices; asked only when they have some
        self.devices = {str(asset.pk): asset for asset in devices}
        if self.devices:
            choices = [(key, f"{a.tag} · {a.name} ({a.type.name})") for key, a in self.devices.items()]
            cast(forms.ChoiceField, self.fields["device"]).choices = [("", _("None or another one")), *choices]
        else:
            del self.fields["device"]
        _limit_files(self.fields["attachments"], _("Screenshots or documents (optional), up to %(mb)d MB each."))


def _limit_files(field: forms.Field, help_text: Any) -> None:
    """Say the size limit in the help text and let palier.js warn before sending."""
    field.widget.attrs.update(file_input_attrs())
    field.help_text = help_text % {"mb": max(1, settings.PALIER_MAX_ATTACHMENT_BYTES // 1048576)}


def chosen_devices(form: TicketForm) -> list[Asset]:
    """The device the requester picked (validated against their own), as a list for the service."""
    key = form.cleaned_data.get("device") or ""
    return [form.devices[key]] if key in form.devices else []


class ReplyForm(StyledForm):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=100_000)
    attachments = MultipleFileField(label=_("Attachments"), max_files=MAX_FILES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_files(self.fields["attachments"], _("Optional, up to %(mb)d MB each."))


class TransitionForm(StyledForm):
    to = forms.ChoiceField(
        choices=[
            (Ticket.Status.CANCELLED, Ticket.Status.CANCELLED),
            (Ticket.Status.IN_PROGRESS, Ticket.Status.IN_PROGRESS),
            (Ticket.Status.CLOSED, Ticket.Status.CLOSED),
        ]
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


OPEN = "open"
CLOSED = "closed"
ALL = "all"
# "Open" includes solved requests: the requester may still confirm or reopen them.
STATE_STATUSES: dict[str, list[str]] = {
    OPEN: [*Ticket.OPEN_STATUSES, S.RESOLVED],
    CLOSED: [S.CLOSED, S.CANCELLED],
    ALL: [],
}
STATE_CHOICES = [(OPEN, _("Open")), (CLOSED, _("Closed")), (ALL, _("All"))]


class SearchForm(StyledForm):
    """ "My requests": a tab (open, closed, all), a search text and a page cursor (GET)."""

    q = forms.CharField(label=_("Search my requests"), max_length=200, required=False)
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False, widget=forms.HiddenInput)
    cursor = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def value(self, name: str) -> str:
        return str(self.cleaned_data.get(name) or "") if self.is_valid() else ""

    @property
    def current_state(self) -> str:
        """The tab: as asked; otherwise "all" when searching (old requests too), else "open"."""
        return self.value("state") or (ALL if self.value("q") else OPEN)

    def to_filters(self, user: User) -> TicketFilters:
        """Always the user's own requests, whatever else the query string says."""
        return TicketFilters(requester=user.pk, status=STATE_STATUSES[self.current_state], q=self.value("q"))
