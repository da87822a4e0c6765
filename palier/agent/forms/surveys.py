"""The filters of the survey answers page."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import SupportGroup

PERIODS = [
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("365", _("Last 12 months")),
    ("all", _("All time")),
]


class FilterForm(StyledForm):
    group = forms.ModelChoiceField(
        label=_("Group"), queryset=people_selectors.groups_by_name(), required=False, empty_label=_("All groups")
    )
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False, initial="30")

    def since(self) -> datetime | None:
        period = (self.cleaned_data.get("period") if self.is_valid() else None) or "30"
        return None if period == "all" else timezone.now() - timedelta(days=int(period))

    def chosen_group(self) -> SupportGroup | None:
        return self.cleaned_data.get("group") if self.is_valid() else None
