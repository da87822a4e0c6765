"""Forms of time tracking: "log work" on a ticket, editing an entry, and a cost rate (admins).

The rate form chooses its target from lists the view passes in, so building it never queries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people.models import SupportGroup, User
from palier.timelog.models import MAX_MINUTES, TimeEntry

TIMER = "timer"


def minutes_field(*, required: bool, label: Any = None) -> forms.IntegerField:
    return forms.IntegerField(
        label=label or _("Minutes"),
        min_value=1,
        max_value=MAX_MINUTES,
        required=required,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-timer-minutes": "1"}),
    )


def time_source(raw: str, *, default: str) -> str:
    """The entry's source: "timer" when the page's timer filled the minutes, else ``default``."""
    return TimeEntry.Source.TIMER if raw == TIMER else default


class TimeEntryForm(StyledForm):
    """Log work on its own, on the ticket page."""

    minutes = minutes_field(required=True)
    work_date = forms.DateField(
        label=_("Day of the work"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label=_("What was done"), max_length=500, required=False)
    time_source = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-timer-source": "1"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["work_date"].initial = timezone.localdate()


class TimeEntryEditForm(StyledForm):
    minutes = minutes_field(required=True)
    note = forms.CharField(label=_("What was done"), max_length=500, required=False)


class CostRateForm(StyledForm):
    """A new price for one level, agent or vendor group, from a day on."""

    target = forms.ChoiceField(label=_("For"))
    hourly_rate = forms.DecimalField(label=_("Hourly rate"), min_value=Decimal(0), max_digits=10, decimal_places=2)
    per_escalation = forms.DecimalField(
        label=_("Cost per escalation"),
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        required=False,
        help_text=_("Vendor groups only."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, agents: list[User], vendors: list[SupportGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agents = {a.pk: a for a in agents}
        self.vendors = {g.pk: g for g in vendors}
        levels = [(f"level:{value}", str(_("Level %(level)s") % {"level": value})) for value in range(1, 6)]
        choices: list[tuple[Any, Any]] = [(_("Support levels"), levels)]
        if agents:
            choices.append((_("Agents"), [(f"agent:{a.pk}", a.display_name) for a in agents]))
        if vendors:
            choices.append((_("Vendor groups"), [(f"group:{g.pk}", str(g)) for g in vendors]))
        field = self.fields["target"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        self.fields["valid_from"].initial = timezone.localdate()

    def target_kwargs(self) -> dict[str, Any]:
        """``level=…``, ``agent=…`` or ``group=…`` for ``set_cost_rate``."""
        kind, _sep, raw = self.cleaned_data["target"].partition(":")
        pk = int(raw)
        if kind == "level":
            return {"level": pk}
        if kind == "agent":
            return {"agent": self.agents[pk]}
        return {"group": self.vendors[pk]}
