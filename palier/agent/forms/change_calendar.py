"""Forms of the change calendar: the filters, the freeze windows, the maintenance windows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.changes.models import MaintenanceWindow, Risk
from palier.lib.web import StyledForm


class CalendarFilterForm(StyledForm):
    service = forms.TypedChoiceField(label=_("Service"), required=False, coerce=int, empty_value=None)
    asset = forms.CharField(label=_("Asset tag"), required=False, max_length=64)
    group = forms.TypedChoiceField(label=_("Group"), required=False, coerce=int, empty_value=None)
    risk = forms.ChoiceField(label=_("Risk"), required=False, choices=[("", _("Any risk")), *Risk.choices])

    def __init__(self, *args: Any, services: list[Any], groups: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        service = self.fields["service"]
        group = self.fields["group"]
        assert isinstance(service, forms.ChoiceField) and isinstance(group, forms.ChoiceField)
        service.choices = [("", _("Any service")), *((s.pk, f"{s.tag} {s.name}") for s in services)]
        group.choices = [("", _("Any group")), *((g.pk, g.name) for g in groups)]


class FreezeForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class MaintenanceWindowForm(StyledForm):
    weekday = forms.TypedChoiceField(label=_("Day"), choices=MaintenanceWindow.Weekday.choices, coerce=int)
    start_time = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=64,
        help_text=_("A name like Europe/Paris; empty: the desk's time zone."),
    )
