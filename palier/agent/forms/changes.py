"""Forms of the change pages: the list's filters, a change's form (by type), status moves, the
risk questionnaire, links, comments, the review, and the administration of templates, risk
questions and thresholds."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.catalog.models import pick
from palier.changes import rules
from palier.changes.models import Change, ChangeProblem, ChangeTemplate, ChangeTicket, Risk, RiskQuestion
from palier.changes.selectors import ChangeFilters
from palier.changes.services import admin as change_admin
from palier.lib.web import StyledForm
from palier.people import selectors as people
from palier.people.models import SupportGroup
from palier.tickets.models import Level

BLANK = [("", "—")]
WHEN_FORMAT = "%Y-%m-%dT%H:%M"
TAG_SPLIT = re.compile(r"[\s,;]+")


def _when_widget() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=WHEN_FORMAT)


def _set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class ChangeFilterForm(StyledForm):
    q = forms.CharField(label=_("Search"), max_length=200, required=False, help_text=_("Reference, title, words."))
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Open")), ("all", _("Any")), *Change.Status.choices],
    )
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[*BLANK, *Change.Kind.choices])
    risk = forms.ChoiceField(label=_("Risk"), required=False, choices=[*BLANK, *Risk.choices])
    group = forms.ChoiceField(label=_("Group"), required=False)
    implementer = forms.ChoiceField(label=_("Implementer"), required=False)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(
            self, "group", [*BLANK, *((str(pk), n) for pk, n in people.groups_by_name().values_list("pk", "name"))]
        )
        agents = people.active_agents().only("id", "full_name", "email")
        _set_choices(self, "implementer", [*BLANK, *((str(u.pk), u.display_name) for u in agents)])

    def to_filters(self) -> ChangeFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return ChangeFilters(
            status=(data["status"],) if data.get("status") else (),
            kind=data.get("kind") or "",
            risk=data.get("risk") or "",
            group=int(data["group"]) if data.get("group") else None,
            implementer=int(data["implementer"]) if data.get("implementer") else None,
            q=data.get("q") or "",
        )

    def cursor(self) -> int | None:
        return (self.cleaned_data.get("after") or None) if self.is_valid() else None


class ChangeForm(StyledForm):
    """Raise or edit a change. A standard change takes its plans from its template, so its form
    asks only for the title, the window, the people and the assets."""

    title = forms.CharField(label=_("Title"), max_length=250)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea({"rows": 4}))
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea({"rows": 3}))
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices, initial=Level.MEDIUM)
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), required=False, widget=forms.Textarea({"rows": 4})
    )
    backout_plan = forms.CharField(label=_("Back-out plan"), required=False, widget=forms.Textarea({"rows": 3}))
    test_plan = forms.CharField(label=_("Test plan"), required=False, widget=forms.Textarea({"rows": 3}))
    planned_start = forms.DateTimeField(label=_("Planned start"), required=False, widget=_when_widget())
    planned_end = forms.DateTimeField(label=_("Planned end"), required=False, widget=_when_widget())
    group = forms.ChoiceField(label=_("Group"), required=False)
    implementer = forms.ChoiceField(label=_("Implementer"), required=False)
    assets = forms.CharField(
        label=_("Assets and services"),
        required=False,
        max_length=2000,
        help_text=_("Asset tags, separated by spaces or commas."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    STANDARD_FIELDS = ("title", "description", "planned_start", "planned_end", "group", "implementer", "assets")

    def __init__(self, *args: Any, kind: str, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.editing = editing
        self._groups = {g.pk: g for g in people.groups_by_name()}
        self._agents = {u.pk: u for u in people.active_agents()}
        _set_choices(self, "group", [*BLANK, *((str(pk), g.name) for pk, g in self._groups.items())])
        _set_choices(self, "implementer", [*BLANK, *((str(pk), u.display_name) for pk, u in self._agents.items())])
        if kind == Change.Kind.STANDARD and not editing:
            for name in list(self.fields):
                if name not in (*self.STANDARD_FIELDS, "version"):
                    del self.fields[name]
            title = self.fields["title"]
            title.required = False
            title.help_text = _("Leave empty to use the template's name.")
            self.fields["planned_end"].help_text = _("Leave empty: the template's usual duration.")
        if editing:
            del self.fields["assets"]

    def tags(self) -> list[str]:
        text = self.cleaned_data.get("assets") or ""
        return [t for t in TAG_SPLIT.split(text) if t]

    def to_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data.get(name, "")
            for name in ("title", "description", "reason", "implementation_plan", "backout_plan", "test_plan")
            if name in self.fields
        }
        if "impact" in self.fields:
            values["impact"] = data["impact"]
        values["planned_start"] = data.get("planned_start")
        values["planned_end"] = data.get("planned_end")
        values["group"] = self._groups.get(int(data["group"])) if data.get("group") else None
        values["implementer"] = self._agents.get(int(data["implementer"])) if data.get("implementer") else None
        if self.editing:  # only what the agent changed (the window is shown to the minute)
            values = {name: value for name, value in values.items() if name in self.changed_data}
        return values

    @staticmethod
    def initial_for(change: Change) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(change, name)
            for name in ("title", "description", "reason", "impact", "implementation_plan", "backout_plan", "test_plan")
        }
        for name in ("planned_start", "planned_end"):
            value: datetime | None = getattr(change, name)
            initial[name] = timezone.localtime(value).replace(second=0, microsecond=0) if value else None
        initial["group"] = str(change.group_id or "")
        initial["implementer"] = str(change.implementer_id or "")
        initial["version"] = change.version
        return initial


class RiskForm(forms.Form):
    """One radio group per active question; the fields are named ``q<id>``."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, questions: list[RiskQuestion], answers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"q{question.pk}"] = forms.ChoiceField(
                label=question.text,
                choices=[
                    (
                        str(c.get("value")),
                        f"{pick(str(c.get('fr') or ''), str(c.get('en') or ''))} ({c.get('score', 0)})",
                    )
                    for c in question.choices
                ],
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                initial=answers.get(str(question.pk)),
                required=False,
            )

    def answers(self) -> dict[str, str]:
        return {str(q.pk): self.cleaned_data.get(f"q{q.pk}") or "" for q in self.questions}


class StatusForm(forms.Form):
    to = forms.ChoiceField(choices=Change.Status.choices)
    outcome = forms.ChoiceField(required=False, choices=[*BLANK, *Change.Outcome.choices])
    note = forms.CharField(required=False, max_length=2000)
    version = forms.IntegerField()


class CloseForm(StyledForm):
    """Closing asks how the change ended (the outcomes its status allows)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=Change.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, status: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = rules.outcomes_for(status)
        _set_choices(self, "outcome", [(v, str(label)) for v, label in Change.Outcome.choices if v in allowed])


class CommentForm(StyledForm):
    body = forms.CharField(label=_("Comment"), max_length=20000, widget=forms.Textarea({"rows": 3}))


class AssetLinkForm(StyledForm):
    tags = forms.CharField(label=_("Asset tags"), max_length=2000, help_text=_("Separated by spaces or commas."))

    def tag_list(self) -> list[str]:
        return [t for t in TAG_SPLIT.split(self.cleaned_data.get("tags") or "") if t]


class TicketLinkForm(StyledForm):
    reference = forms.CharField(label=_("Ticket"), max_length=40, help_text=_("Its reference, e.g. INC-42."))
    relation = forms.ChoiceField(label=_("Relation"), choices=ChangeTicket.Relation.choices)


class ProblemLinkForm(StyledForm):
    reference = forms.CharField(label=_("Problem"), max_length=40, help_text=_("Its reference, e.g. PRB-12."))
    relation = forms.ChoiceField(label=_("Relation"), choices=ChangeProblem.Relation.choices)


class ReviewForm(StyledForm):
    review_notes = forms.CharField(
        label=_("How did it go?"), max_length=20000, widget=forms.Textarea({"rows": 4}), required=False
    )
    lessons = forms.CharField(
        label=_("Lessons learned"), max_length=20000, widget=forms.Textarea({"rows": 3}), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


# --- administration --------------------------------------------------------------------------------


class TemplateForm(StyledForm):
    name_fr = forms.CharField(label=_("Name (French)"), max_length=200)
    name_en = forms.CharField(label=_("Name (English)"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea({"rows": 3}))
    implementation_plan = forms.CharField(
        label=_("Implementation plan"), required=False, widget=forms.Textarea({"rows": 4})
    )
    backout_plan = forms.CharField(label=_("Back-out plan"), required=False, widget=forms.Textarea({"rows": 3}))
    test_plan = forms.CharField(label=_("Test plan"), required=False, widget=forms.Textarea({"rows": 3}))
    risk = forms.ChoiceField(label=_("Risk"), choices=Risk.choices, initial=Risk.LOW)
    group = forms.ChoiceField(label=_("Group"), required=False)
    duration_minutes = forms.IntegerField(label=_("Usual duration (minutes)"), initial=60)
    is_active = forms.BooleanField(label=_("Offered for new changes"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._groups: dict[int, SupportGroup] = {g.pk: g for g in people.groups_by_name()}
        _set_choices(self, "group", [*BLANK, *((str(pk), g.name) for pk, g in self._groups.items())])

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["group"] = self._groups.get(int(data["group"])) if data.get("group") else None
        return data

    @staticmethod
    def initial_for(template: ChangeTemplate) -> dict[str, Any]:
        names = ("name_fr", "name_en", "description", "implementation_plan", "backout_plan", "test_plan", "risk")
        initial = {name: getattr(template, name) for name in names}
        initial.update(
            group=str(template.group_id or ""),
            duration_minutes=template.duration_minutes,
            is_active=template.is_active,
        )
        return initial


class QuestionForm(StyledForm):
    text_fr = forms.CharField(label=_("Question (French)"), max_length=300)
    text_en = forms.CharField(label=_("Question (English)"), max_length=300)
    choices = forms.CharField(
        label=_("Answers"),
        max_length=5000,
        widget=forms.Textarea({"rows": 5, "class": "form-control font-monospace"}),
        help_text=_("One answer a line: value | French | English | score (e.g. “no | Non | No | 0”)."),
    )
    is_active = forms.BooleanField(label=_("Asked in new assessments"), required=False, initial=True)

    @staticmethod
    def initial_for(question: RiskQuestion) -> dict[str, Any]:
        return {
            "text_fr": question.text_fr,
            "text_en": question.text_en,
            "choices": change_admin.choices_as_text(question.choices),
            "is_active": question.is_active,
        }


class ThresholdsForm(StyledForm):
    medium_from = forms.IntegerField(label=_("Medium risk from score"), min_value=1, max_value=1000)
    high_from = forms.IntegerField(label=_("High risk from score"), min_value=1, max_value=1000)
    critical_from = forms.IntegerField(label=_("Critical risk from score"), min_value=1, max_value=1000)
