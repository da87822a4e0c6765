"""The inventory token form (administrators)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.assets.inventory import selectors
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors


class InventoryTokenForm(StyledForm):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("Which agents post with it, e.g. “Lyon laptops”.")
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=people_selectors.organisations_by_name(),
        required=False,
        help_text=_("Machines it creates belong to it; it may not update another organisation's machines."),
    )
    location = forms.ModelChoiceField(label=_("Location"), queryset=selectors.locations(), required=False)
    owner_group = forms.ModelChoiceField(
        label=_("Owner group"), queryset=people_selectors.support_groups(), required=False
    )
    days = forms.IntegerField(
        label=_("Expires after (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: never."),
    )
