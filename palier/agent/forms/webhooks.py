"""Forms of the webhook subscription pages (administrators)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.webhooks import kinds


class SubscriptionForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_("An https:// address; Palier posts each chosen event to it as signed JSON."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"), choices=kinds.choices, widget=forms.CheckboxSelectMultiple
    )


class NewSubscriptionForm(SubscriptionForm):
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        min_length=16,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty and Palier makes one; it is shown once, after saving."),
    )
