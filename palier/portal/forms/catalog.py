"""Forms of the catalog pages of the portal: browsing and the approval decision (the request form
itself is ``palier.catalog.forms.RequestForm``, which the API uses too)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _l

from palier.lib.web import StyledForm


class DecisionForm(StyledForm):
    comment = forms.CharField(
        label=_l("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_l("Required to reject: the requester reads it."),
    )


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    category = forms.IntegerField(required=False, min_value=1)


class DelegationForm(StyledForm):
    deputy_email = forms.EmailField(label=_l("Deputy's email address"), max_length=254)
    starts_on = forms.DateField(label=_l("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_l("Until (included)"), widget=forms.DateInput(attrs={"type": "date"}))
