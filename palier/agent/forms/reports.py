"""The dashboards' filter form. It only shows the filters and the messages it is given: the
values are checked once, by ``reports.dashboards.build_dashboard`` (the same rules as the API and
the exports), so a group out of reach reads exactly like an unknown one."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people.models import SupportGroup
from palier.reports.dashboards import DEFAULT_PERIOD, FilterChoices
from palier.tickets.models import Ticket

PERIODS = [
    ("today", _("Today")),
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("this_month", _("This month")),
    ("last_month", _("Last month")),
    ("quarter", _("This quarter")),
    ("year", _("This year")),
    ("custom", _("Custom dates")),
]


def _set(field: forms.Field, choices: list[tuple[Any, Any]]) -> None:
    cast(forms.ChoiceField, field).choices = choices


class ReportFilterForm(StyledForm):
    period = forms.ChoiceField(label=_("Period"), choices=PERIODS, required=False, initial=DEFAULT_PERIOD)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    group = forms.ChoiceField(label=_("Group"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    kind = forms.ChoiceField(label=_("Type"), required=False)
    priority = forms.ChoiceField(label=_("Priority"), required=False)

    def __init__(self, *args: Any, choices: FilterChoices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        _set(f["group"], [("", _("All my groups")), *((str(pk), name) for pk, name in choices.groups)])
        _set(f["level"], [("", _("Any level")), *((str(v), label) for v, label in SupportGroup.Level.choices)])
        _set(f["category"], [("", _("Any category")), *((str(pk), name) for pk, name in choices.categories)])
        organisations = ((str(pk), name) for pk, name in choices.organisations)
        _set(f["organisation"], [("", _("Any organisation")), *organisations])
        _set(f["channel"], [("", _("Any channel")), *Ticket.Channel.choices])
        _set(f["kind"], [("", _("Any type")), *Ticket.Kind.choices])
        _set(f["priority"], [("", _("Any priority")), *((str(p), f"P{p}") for p in (1, 2, 3, 4, 5))])

    def full_clean(self) -> None:
        """Nothing to check here (see the module's docstring): messages come from ``apply_errors``."""
        self._errors = ErrorDict()
        self.cleaned_data = {}
