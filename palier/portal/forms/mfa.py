"""Forms of the second-factor pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm


class CodeForm(StyledForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    remember = forms.BooleanField(label=_("Remember this browser"), required=False)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ConfirmForm(StyledForm):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
