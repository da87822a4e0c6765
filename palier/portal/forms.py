"""Forms of the requester portal: asking for help, replying, withdrawing or reopening."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import MultipleFileField, StyledForm
from palier.tickets.models import Category, Level, Ticket

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
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), required=False
    )
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
    attachments = MultipleFileField(label=_("Attachments"), help_text=_("Screenshots or documents (optional)."))

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["category"]).choices = [("", _("I don't know")), *categories]


class ReplyForm(StyledForm):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 4}), max_length=100_000)
    attachments = MultipleFileField(label=_("Attachments"))


class TransitionForm(StyledForm):
    to = forms.ChoiceField(
        choices=[
            (Ticket.Status.CANCELLED, Ticket.Status.CANCELLED),
            (Ticket.Status.IN_PROGRESS, Ticket.Status.IN_PROGRESS),
            (Ticket.Status.CLOSED, Ticket.Status.CLOSED),
        ]
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class SearchForm(StyledForm):
    q = forms.CharField(label=_("Search my requests"), max_length=200, required=False)
    cursor = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)
