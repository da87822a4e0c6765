"""Forms of the SLA administration pages. They parse and label; the services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.assets.models import Asset
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.sla import selectors as sla_selectors
from palier.sla.models import Calendar, SlaPolicy
from palier.sla.services.calendars import weekday_name
from palier.sla.services.policies import PAUSABLE
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Ticket

A = SlaPolicy.Action
NOTIFY_CHOICES = [
    (A.NOTIFY_ASSIGNEE, _("the assignee")),
    (A.NOTIFY_GROUP, _("the group")),
    (A.NOTIFY_MANAGER, _("the group's manager")),
]
LEVEL_CHOICES = [("", _("No")), *[(str(n), f"L{n}") for n in range(1, 6)]]
HOURS_HELP = _("For example 09:00-12:00, 13:30-18:00. Empty: closed. Write 24:00 for midnight.")


def _hours_text(pairs: list[list[str]]) -> str:
    return ", ".join(f"{a}-{b}" for a, b in pairs)


def _parse_hours_text(text: str) -> list[list[str]]:
    pairs: list[list[str]] = []
    for piece in (text or "").replace(";", ",").split(","):
        piece = piece.strip()
        if piece:
            pairs.append([part.strip() for part in piece.split("-", 1)])
    return pairs


class CalendarForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Paris")
    always_open = forms.BooleanField(label=_("Open 24/7 (ignores hours and holidays)"), required=False)
    holiday_country = forms.CharField(
        label=_("Public holidays of country"), max_length=8, required=False, help_text=_("ISO code, such as FR or DE.")
    )
    holiday_subdivision = forms.CharField(
        label=_("Subdivision"), max_length=40, required=False, help_text=_("Optional, such as 57 (Moselle) for FR.")
    )
    custom_dates = forms.CharField(
        label=_("Custom closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: 2026-12-24 Christmas Eve"),
    )
    is_default = forms.BooleanField(label=_("Default calendar"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in range(7):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=weekday_name(day),
                required=False,
                help_text=HOURS_HELP if day == 0 else "",
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )
        order = ["name", "time_zone", "always_open", *[f"hours_{d}" for d in range(7)]]
        self.order_fields(order)

    @staticmethod
    def initial_for(calendar: Calendar) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "always_open": calendar.always_open,
            "holiday_country": calendar.holiday_country,
            "holiday_subdivision": calendar.holiday_subdivision,
            "is_default": calendar.is_default,
            "custom_dates": "\n".join(
                f"{h.date.isoformat()} {h.label}".strip() for h in calendar.custom_holidays.all()
            ),
        }
        for day in range(7):
            initial[f"hours_{day}"] = _hours_text((calendar.hours or {}).get(str(day), []))
        return initial

    def to_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        lines = [line.strip().split(None, 1) for line in (data.get("custom_dates") or "").splitlines() if line.strip()]
        return {
            "name": data["name"],
            "time_zone": data["time_zone"],
            "always_open": data["always_open"],
            "hours": {str(d): pairs for d in range(7) if (pairs := _parse_hours_text(data.get(f"hours_{d}", "")))},
            "holiday_country": data.get("holiday_country", ""),
            "holiday_subdivision": data.get("holiday_subdivision", ""),
            "custom_dates": [(parts[0], parts[1] if len(parts) > 1 else "") for parts in lines],
            "is_default": data["is_default"],
        }


def _group_choices() -> list[tuple[str, Any]]:
    return [("", _("No")), *[(str(g.pk), str(g)) for g in people_selectors.support_groups()]]


class PolicyForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    position = forms.IntegerField(
        label=_("Position"), required=False, help_text=_("Lower comes first; the first matching policy applies.")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    priorities = forms.MultipleChoiceField(
        label=_("Priorities"),
        choices=[(str(n), f"P{n}") for n in range(1, 5)],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any priority."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Ticket types"), choices=Ticket.Kind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    criticalities = forms.MultipleChoiceField(
        label=_("Business service criticality"),
        choices=Asset.Criticality.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The highest criticality of the business services the ticket's assets support. None: any."),
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Categories"),
        queryset=ticket_selectors.all_categories(),
        required=False,
        help_text=_("A category also matches its sub-categories. None: any."),
    )
    organisations = forms.ModelMultipleChoiceField(
        label=_("Organisations"),
        queryset=people_selectors.organisations_by_name(),
        required=False,
        help_text=_("None: any."),
    )
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"), queryset=sla_selectors.calendars_by_name(), required=False
    )
    first_response_minutes = forms.IntegerField(label=_("First response (business minutes)"), required=False)
    next_response_minutes = forms.IntegerField(label=_("Next response (business minutes, optional)"), required=False)
    resolution_minutes = forms.IntegerField(label=_("Resolution (business minutes)"), required=False)
    pause_statuses = forms.MultipleChoiceField(
        label=_("The clock pauses in"),
        choices=[(s, Ticket.Status(s).label) for s in PAUSABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    warn_percent = forms.IntegerField(label=_("Warning at (percent of the target)"), initial=75, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = _group_choices()
        for phase, title in (("warning", _("On warning")), ("breach", _("On breach"))):
            self.fields[f"{phase}_notify"] = forms.MultipleChoiceField(
                label=_("%(phase)s: notify") % {"phase": title},
                choices=NOTIFY_CHOICES,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
            self.fields[f"{phase}_raise_priority"] = forms.BooleanField(
                label=_("%(phase)s: raise the priority") % {"phase": title}, required=False
            )
            self.fields[f"{phase}_escalate_group"] = forms.ChoiceField(
                label=_("%(phase)s: escalate to group") % {"phase": title}, choices=groups, required=False
            )
            self.fields[f"{phase}_escalate_level"] = forms.ChoiceField(
                label=_("%(phase)s: escalate to level") % {"phase": title}, choices=LEVEL_CHOICES, required=False
            )
        if not self.is_bound and "pause_statuses" not in self.initial:
            self.initial["pause_statuses"] = ["pending_requester", "pending_vendor"]

    @staticmethod
    def initial_for(policy: SlaPolicy) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": policy.name,
            "position": policy.position,
            "is_active": policy.is_active,
            "priorities": [str(p) for p in policy.priorities],
            "kinds": policy.kinds,
            "criticalities": policy.criticalities,
            "categories": list(policy.categories.all()),
            "organisations": list(policy.organisations.all()),
            "calendar": policy.calendar_id,
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "pause_statuses": policy.pause_statuses,
            "warn_percent": policy.warn_percent,
        }
        for phase, actions in (("warning", policy.warning_actions), ("breach", policy.breach_actions)):
            names = [a.get("action") for a in actions]
            initial[f"{phase}_notify"] = [n for n in names if n in dict(NOTIFY_CHOICES)]
            initial[f"{phase}_raise_priority"] = A.RAISE_PRIORITY in names
            initial[f"{phase}_escalate_group"] = next(
                (str(a["group"]) for a in actions if a.get("action") == A.ESCALATE_GROUP), ""
            )
            initial[f"{phase}_escalate_level"] = next(
                (str(a["level"]) for a in actions if a.get("action") == A.ESCALATE_LEVEL), ""
            )
        return initial

    def _actions(self, phase: str) -> list[dict[str, Any]]:
        data = self.cleaned_data
        actions: list[dict[str, Any]] = [{"action": name} for name in data.get(f"{phase}_notify") or []]
        if data.get(f"{phase}_raise_priority"):
            actions.append({"action": A.RAISE_PRIORITY})
        if data.get(f"{phase}_escalate_group"):
            actions.append({"action": A.ESCALATE_GROUP, "group": int(data[f"{phase}_escalate_group"])})
        if data.get(f"{phase}_escalate_level"):
            actions.append({"action": A.ESCALATE_LEVEL, "level": int(data[f"{phase}_escalate_level"])})
        return actions

    def to_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "position": data.get("position"),
            "is_active": data["is_active"],
            "priorities": [int(p) for p in data["priorities"]],
            "kinds": data["kinds"],
            "criticalities": data["criticalities"],
            "categories": list(data["categories"]),
            "organisations": list(data["organisations"]),
            "calendar": data.get("calendar"),
            "first_response_minutes": data.get("first_response_minutes"),
            "next_response_minutes": data.get("next_response_minutes"),
            "resolution_minutes": data.get("resolution_minutes"),
            "pause_statuses": data["pause_statuses"],
            "warn_percent": data.get("warn_percent") if data.get("warn_percent") is not None else 0,
            "warning_actions": self._actions("warning"),
            "breach_actions": self._actions("breach"),
        }
