"""Forms of the problem pages: the list's filters, the problem's form, and the small forms of its
page (comment, file, links, status, resolution)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.people import selectors as people
from palier.problems.models import Problem
from palier.problems.selectors import ALL, ProblemFilters
from palier.tickets import categories
from palier.tickets.models import Level

BLANK = [("", "—")]
DATETIME = {"type": "datetime-local"}


def _choices(form: forms.Form, name: str, choices: list[tuple[str, Any]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _as_int(value: Any) -> int | None:
    return int(value) if str(value or "").isdigit() else None


def _reference_choices(form: forms.Form) -> None:
    _choices(form, "category", [*BLANK, *((str(pk), label) for pk, label in categories.category_choices())])
    _choices(
        form, "group", [*BLANK, *((str(pk), name) for pk, name in people.groups_by_name().values_list("pk", "name"))]
    )
    agents = people.active_agents().values_list("pk", "full_name", "email")
    _choices(form, "assignee", [*BLANK, *((str(pk), name or email) for pk, name, email in agents)])


class ProblemFilterForm(StyledForm):
    q = forms.CharField(label=_("Search"), max_length=200, required=False, help_text=_("Number or words."))
    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    group = forms.ChoiceField(label=_("Group"), required=False)
    assignee = forms.ChoiceField(label=_("Owner"), required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), required=False, choices=[*BLANK, *((str(p), f"P{p}") for p in range(1, 5))]
    )
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "status", [("", _("Open")), (ALL, _("All")), *Problem.Status.choices])
        _reference_choices(self)

    def to_filters(self) -> ProblemFilters:
        """The filters of a valid form; an invalid field is ignored."""
        data = self.cleaned_data if self.is_valid() else {}
        return ProblemFilters(
            q=data.get("q") or "",
            status=(data["status"],) if data.get("status") else (),
            category=_as_int(data.get("category")),
            group=_as_int(data.get("group")),
            assignee=_as_int(data.get("assignee")),
            priority=_as_int(data.get("priority")),
        )

    def cursor(self) -> int | None:
        return self.cleaned_data.get("after") if self.is_valid() else None


class ProblemForm(StyledForm):
    title = forms.CharField(label=_("Title"), max_length=250)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    category = forms.ChoiceField(label=_("Category"), required=False)
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices, initial=Level.MEDIUM)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Level.choices, initial=Level.MEDIUM)
    group = forms.ChoiceField(label=_("Group"), required=False)
    assignee = forms.ChoiceField(label=_("Owner"), required=False)
    root_cause = forms.CharField(label=_("Root cause"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    workaround = forms.CharField(label=_("Workaround"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    permanent_fix = forms.CharField(label=_("Permanent fix"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    respond_by = forms.DateTimeField(
        label=_("Investigate by"), required=False, widget=forms.DateTimeInput(DATETIME, format="%Y-%m-%dT%H:%M")
    )
    resolve_by = forms.DateTimeField(
        label=_("Resolve by"), required=False, widget=forms.DateTimeInput(DATETIME, format="%Y-%m-%dT%H:%M")
    )
    incidents = forms.CharField(required=False, max_length=5000, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _reference_choices(self)

    @staticmethod
    def initial_for(problem: Problem) -> dict[str, Any]:
        return {
            "title": problem.title,
            "description": problem.description,
            "category": str(problem.category_id or ""),
            "impact": problem.impact,
            "urgency": problem.urgency,
            "group": str(problem.group_id or ""),
            "assignee": str(problem.assignee_id or ""),
            "root_cause": problem.root_cause,
            "workaround": problem.workaround,
            "permanent_fix": problem.permanent_fix,
            "respond_by": problem.respond_by,
            "resolve_by": problem.resolve_by,
            "version": problem.version,
        }

    def to_values(self) -> dict[str, Any]:
        """The service's keyword arguments (references turned into rows)."""
        data = self.cleaned_data
        values: dict[str, Any] = {
            name: data[name]
            for name in ("title", "description", "impact", "urgency", "root_cause", "workaround", "permanent_fix")
        }
        values["category"] = categories.find_category(_as_int(data.get("category")))
        group = _as_int(data.get("group"))
        values["group"] = people.find_group(group) if group else None
        assignee = _as_int(data.get("assignee"))
        values["assignee"] = people.find_active_user(assignee) if assignee else None
        values["respond_by"] = data.get("respond_by")
        values["resolve_by"] = data.get("resolve_by")
        return values

    def ticket_ids(self) -> list[int]:
        text = self.cleaned_data.get("incidents") or ""
        return [int(t) for t in text.replace(" ", "").split(",") if t.isdigit()][:500]


class CommentForm(StyledForm):
    body = forms.CharField(label=_("Comment"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(
        label=_("Internal (agents only)"),
        required=False,
        initial=True,
        help_text=_("Untick to make it public: requesters read public comments with their incidents."),
    )


class FileForm(StyledForm):
    file = forms.FileField(label=_("File"))


class LinkIncidentsForm(StyledForm):
    references = forms.CharField(
        label=_("Incidents"), max_length=10_000, help_text=_("References separated by commas: INC-12, INC-40.")
    )


class LinkAssetForm(StyledForm):
    tag = forms.CharField(label=_("Asset tag"), max_length=64)


class LinkArticleForm(StyledForm):
    article = forms.IntegerField(label=_("Article number"), min_value=1)


class ResolveForm(StyledForm):
    message = forms.CharField(
        label=_("Message to the requesters"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Posted as a public reply on each open incident."),
    )
    notify = forms.BooleanField(label=_("Tell the requesters of the open incidents"), required=False, initial=True)
    resolve_incidents = forms.BooleanField(label=_("Resolve the open incidents"), required=False, initial=True)
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class LinkToProblemForm(StyledForm):
    """On a ticket's page or in the queue: the problem to link to, by its reference."""

    problem = forms.CharField(label=_("Problem"), max_length=40, help_text=_("Its reference, e.g. PRB-12."))
