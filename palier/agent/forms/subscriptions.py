"""The "My subscriptions" form: a summary (frequency and the dashboards' filters) or, for
administrators, a scheduled export (the report, its format and the addresses)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.reports.models import ReportSubscription
from palier.reports.subscriptions import FilterChoices, export_choices
from palier.tickets.models import Ticket

ANY: list[tuple[str, Any]] = [("", _("Any"))]
LEVELS: list[tuple[str, Any]] = [(str(n), f"L{n}") for n in range(1, 6)]
PRIORITIES = [(str(n), f"P{n}") for n in range(1, 6)]
EXPORT_FIELDS = ("kind", "metric", "format", "recipients")


class SubscriptionForm(StyledForm):
    kind = forms.ChoiceField(label=_("What"), choices=ReportSubscription.Kind.choices, initial="summary")
    frequency = forms.ChoiceField(label=_("When"), choices=ReportSubscription.Frequency.choices)
    group = forms.ChoiceField(label=_("Group"), required=False)
    level = forms.ChoiceField(label=_("Level"), choices=ANY + LEVELS, required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=ANY + list(Ticket.Channel.choices), required=False)
    ticket_kind = forms.ChoiceField(label=_("Type"), choices=ANY + list(Ticket.Kind.choices), required=False)
    priority = forms.MultipleChoiceField(
        label=_("Priority"), choices=PRIORITIES, required=False, widget=forms.CheckboxSelectMultiple
    )
    metric = forms.ChoiceField(label=_("Report to export"), required=False)
    format = forms.ChoiceField(label=_("Format"), choices=ReportSubscription.Format.choices, required=False)
    recipients = forms.CharField(
        label=_("Send to"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Email addresses separated by commas or lines, at most 20."),
    )  # fmt: skip

    def __init__(self, *args: Any, choices: FilterChoices, can_export: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("All my groups")), *choices.groups]  # type: ignore[attr-defined]
        self.fields["category"].choices = ANY + choices.categories  # type: ignore[attr-defined]
        self.fields["organisation"].choices = ANY + choices.organisations  # type: ignore[attr-defined]
        self.fields["metric"].choices = export_choices()  # type: ignore[attr-defined]
        if not can_export:
            for name in EXPORT_FIELDS:
                del self.fields[name]

    def subscription(self) -> dict[str, Any]:
        """The service's arguments: the filters as the dashboards' query parameters."""
        data = self.cleaned_data
        filters = {name: data[name] for name in ("group", "level", "category", "organisation", "channel") if data[name]}
        if data["ticket_kind"]:
            filters["kind"] = data["ticket_kind"]
        if data["priority"]:
            filters["priority"] = data["priority"]
        fields: dict[str, Any] = {
            "frequency": data["frequency"],
            "filters": filters,
            "kind": data.get("kind", "summary"),
        }
        if fields["kind"] == ReportSubscription.Kind.EXPORT:
            fields |= {"metric": data["metric"], "format": data["format"], "recipients": data["recipients"]}
        return fields
