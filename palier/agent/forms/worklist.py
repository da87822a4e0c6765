"""Forms of the worklist pages: a task on the ticket page, its edit page, the schedule form, and
the administrators' task templates. Choices come from lists the view passes in (no query)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people.models import SupportGroup, User
from palier.worklist.models import MAX_BODY, MAX_TITLE, ScheduledAction, TicketTask


def _people_choices(agents: list[User], groups: list[SupportGroup]) -> tuple[list[Any], list[Any]]:
    none = [("", "—")]
    return none + [(u.pk, u.display_name) for u in agents], none + [(g.pk, g.name) for g in groups]


class TaskForm(StyledForm):
    title = forms.CharField(label=_("Task"), max_length=MAX_TITLE)
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, empty_value=None, required=False)
    group = forms.TypedChoiceField(label=_("Group"), coerce=int, empty_value=None, required=False)
    due_on = forms.DateField(label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    mandatory = forms.BooleanField(label=_("Must be done before resolving"), required=False)

    def __init__(self, *args: Any, agents: list[User], groups: list[SupportGroup], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "task_%s")  # on the ticket page beside the ticket's own group and assignee
        super().__init__(*args, **kwargs)
        people, teams = _people_choices(agents, groups)
        self.fields["assignee"].choices = people  # type: ignore[attr-defined]
        self.fields["group"].choices = teams  # type: ignore[attr-defined]


class TaskEditForm(TaskForm):
    status = forms.ChoiceField(label=_("Status"), choices=TicketTask.Status.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class TaskStatusForm(forms.Form):
    status = forms.ChoiceField(choices=TicketTask.Status.choices)
    version = forms.IntegerField(min_value=1)


class TemplatePickForm(forms.Form):
    template = forms.IntegerField(min_value=1)


class ScheduleForm(StyledForm):
    kind = forms.ChoiceField(
        label=_("What"), choices=ScheduledAction.Kind.choices, initial=ScheduledAction.Kind.REMINDER
    )
    run_at = forms.CharField(
        label=_("When (your time zone)"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    body = forms.CharField(
        label=_("Reply to send, or note to yourself"),
        max_length=MAX_BODY,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "followup_%s")  # on the ticket page beside the reply form's body
        super().__init__(*args, **kwargs)

    def clean_run_at(self) -> datetime:
        """The time as typed, without a zone: the service reads it in the agent's time zone."""
        raw = self.cleaned_data["run_at"].strip()
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValidationError(_("Enter a date and a time.")) from None
        return value.replace(tzinfo=None)


class TemplateForm(StyledForm):
    """A task template: its name and description, and its tasks as rows of fields (title, group,
    due after so many days, mandatory); empty rows are ignored."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    ROWS = 8

    def __init__(self, *args: Any, groups: list[SupportGroup], rows: int = ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = [("", "—")] + [(g.pk, g.name) for g in groups]
        for index in range(rows):
            self.fields[f"title_{index}"] = forms.CharField(label=_("Task"), max_length=MAX_TITLE, required=False)
            self.fields[f"group_{index}"] = forms.TypedChoiceField(
                label=_("Group"), choices=teams, coerce=int, empty_value=None, required=False
            )
            self.fields[f"days_{index}"] = forms.IntegerField(
                label=_("Due after (days)"), min_value=0, max_value=365, required=False
            )
            self.fields[f"mandatory_{index}"] = forms.BooleanField(label=_("Mandatory"), required=False)
        self.rows = rows

    def item_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"title_{i}"], self[f"group_{i}"], self[f"days_{i}"], self[f"mandatory_{i}"]]
            for i in range(self.rows)
        ]

    def items(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "title": data[f"title_{i}"],
                "group": data[f"group_{i}"],
                "due_in_days": data[f"days_{i}"],
                "mandatory": data[f"mandatory_{i}"],
            }
            for i in range(self.rows)
            if data.get(f"title_{i}")
        ]
