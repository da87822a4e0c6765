"""The seat form of a licence's page: a person (by email) or a machine (by tag)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class SeatForm(forms.Form):
    person = forms.EmailField(
        label=_("Person"),
        required=False,
        help_text=_("Their email address."),
        widget=forms.EmailInput(attrs={"class": "form-control"}),
    )
    machine = forms.CharField(
        label=_("Or a machine"),
        required=False,
        max_length=64,
        help_text=_("Its asset tag."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("person")) == bool((data.get("machine") or "").strip()):
            raise forms.ValidationError(_("Give the seat to a person or to a machine (one of them)."))
        return data
