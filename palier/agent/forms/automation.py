"""Forms of the automation pages: a rule as rows of field / comparison / value and rows of action /
target / text, so nobody writes JSON. Each row is checked with the same validation the services
use, and its error is shown on the row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.urls import reverse_lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from palier.automation import actions as action_specs
from palier.automation import conditions as condition_specs
from palier.automation import subjects as subject_specs
from palier.automation.models import RecurringTicket, Rule
from palier.changes.models import Change, Risk
from palier.integrations import selectors as integration_selectors
from palier.lib.web import StyledForm
from palier.people import selectors as people_selectors
from palier.people.models import User
from palier.people.selectors import people_matching
from palier.problems.models import Problem
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Level, Ticket
from palier.worklist import selectors as worklist_selectors

Choices = list[tuple[Any, Any]]


def _references() -> dict[str, Choices]:
    """Groups, agents, categories, organisations and chat apps as "kind:id" options (4 queries)."""
    return {
        "group": [(f"group:{g.pk}", g.name) for g in people_selectors.groups_by_name()],
        "user": [(f"user:{u.pk}", u.display_name) for u in people_selectors.staff(with_system=False)],
        "category": [
            (f"category:{c.pk}", f"— {c.name}" if c.parent_id else c.name)
            for c in ticket_selectors.active_categories_by_slug()
        ],
        "organisation": [(f"organisation:{o.pk}", o.name) for o in people_selectors.organisations_by_name()],
        "chat": [
            (f"chat:{a.pk}", f"{a.name} ({a.get_kind_display()})") for a in integration_selectors.notifying_chat_apps()
        ],
        "task_template": [(f"task_template:{t.pk}", t.name) for t in worklist_selectors.template_choices()],
    }


def _fixed() -> dict[str, Choices]:
    return {
        "status": [(f"status:{v}", label) for v, label in Ticket.Status.choices],
        "priority": [(f"priority:{p}", f"P{p}") for p in range(1, 5)],
        "kind": [(f"kind:{v}", label) for v, label in Ticket.Kind.choices],
        "channel": [(f"channel:{v}", label) for v, label in Ticket.Channel.choices],
        "to": [(f"to:{v}", label) for v, label in action_specs.RECIPIENTS.items()],
        # problems and changes
        "problem_status": [(f"problem_status:{v}", label) for v, label in Problem.Status.choices],
        "change_status": [(f"change_status:{v}", label) for v, label in Change.Status.choices],
        "change_kind": [(f"change_kind:{v}", label) for v, label in Change.Kind.choices],
        "risk": [(f"risk:{v}", label) for v, label in Risk.choices],
        "outcome": [(f"outcome:{v}", label) for v, label in Change.Outcome.choices],
        "decision": [("decision:approved", _("Approved")), ("decision:rejected", _("Rejected"))],
        "change_move": [(f"change_move:{v}", Change.Status(v).label) for v in subject_specs.CHANGE_MOVES],
        "notify": [(f"notify:{v}", label) for v, label in subject_specs.NOTIFY_TO.items() if v.startswith("owner")],
    }


GROUP_LABELS = {
    "status": _("Statuses"), "priority": _("Priorities"), "kind": _("Types"), "channel": _("Channels"),
    "group": _("Groups"), "user": _("Agents"), "category": _("Categories"), "organisation": _("Organisations"),
    "chat": _("Chat channels"), "to": _("Recipients"), "problem_status": _("Statuses"),
    "change_status": _("Statuses"), "change_kind": _("Types"), "risk": _("Risk levels"), "outcome": _("Outcomes"),
    "decision": _("Decisions"), "change_move": _("Statuses"), "notify": _("Recipients"),
    "task_template": _("Task templates"),
}  # fmt: skip
SUBJECT = Rule.Subject


def value_choices(options: dict[str, Choices], kinds: tuple[str, ...]) -> Choices:
    return [("", "—")] + [(GROUP_LABELS[k], options[k]) for k in kinds if options.get(k)]


def _choices(form: forms.Form, name: str, choices: Choices) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def split(value: str) -> tuple[str, str]:
    kind, _sep, rest = (value or "").partition(":")
    return kind, rest


# --- the rule -----------------------------------------------------------------------------------------


class RuleForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    trigger = forms.ChoiceField(label=_("When"), choices=Rule.Trigger.choices)
    to_status = forms.ChoiceField(
        label=_("To the status"), required=False, help_text=_("Status-changed triggers: empty for any status.")
    )
    wait_status = forms.ChoiceField(
        label=_("Status the ticket stays in (time-based rules)"),
        choices=[("", "—"), *Ticket.Status.choices],
        required=False,
    )
    wait_hours = forms.IntegerField(
        label=_("For how many hours"), min_value=1, required=False, help_text=_("72 = three days; 168 = a week.")
    )
    wait_business = forms.BooleanField(
        label=_("Count business hours of the ticket's SLA calendar"), required=False, initial=True
    )

    def __init__(self, *args: Any, subject: str = SUBJECT.TICKET, **kwargs: Any) -> None:
        """The triggers of ``subject`` only; the time-based fields for tickets, the status
        reached for problems and changes."""
        super().__init__(*args, **kwargs)
        self.subject = subject
        triggers = subject_specs.TRIGGERS[subject]
        _choices(self, "trigger", [(v, label) for v, label in Rule.Trigger.choices if v in triggers])
        if subject == SUBJECT.TICKET:
            del self.fields["to_status"]
            return
        for name in (
            ("wait_status", "wait_business")
            if subject == SUBJECT.CHANGE
            else ("wait_status", "wait_hours", "wait_business")
        ):
            del self.fields[name]
        if subject == SUBJECT.CHANGE:
            self.fields["wait_hours"].label = _("Hours before the planned start")
            self.fields["wait_hours"].help_text = _("“Change starting within hours” only: 24 = a day ahead.")
        statuses = Problem.Status if subject == SUBJECT.PROBLEM else Change.Status
        _choices(self, "to_status", [("", _("any status")), *statuses.choices])


CONDITION_VALUE_KINDS = ("status", "priority", "kind", "channel", "group", "user", "category", "organisation")
# the value kinds chosen from a list, per subject (the others are typed)
VALUE_KINDS: dict[str, tuple[str, ...]] = {
    SUBJECT.TICKET: CONDITION_VALUE_KINDS,
    SUBJECT.PROBLEM: ("problem_status", "priority", "group", "user", "category"),
    SUBJECT.CHANGE: ("change_status", "change_kind", "risk", "outcome", "decision", "group", "user"),
}


class ConditionForm(StyledForm):
    part = forms.ChoiceField(
        label=_("Must"), choices=[("all", _("always hold")), ("any", _("hold, or another “or” row"))], initial="all"
    )
    field = forms.ChoiceField(label=_("Field"), required=False)
    op = forms.ChoiceField(label=_("Comparison"), choices=list(condition_specs.OPERATORS.items()), required=False)
    choice = forms.ChoiceField(label=_("Value"), required=False)
    text = forms.CharField(label=_("or text / number"), required=False, max_length=200)

    def __init__(self, *args: Any, options: dict[str, Choices], subject: str = SUBJECT.TICKET, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subject = subject
        self.vocabulary = subject_specs.FIELDS[subject]
        self.value_kinds = VALUE_KINDS[subject]
        _choices(self, "field", [("", "—"), *((k, v[0]) for k, v in self.vocabulary.items())])
        _choices(self, "choice", value_choices(options, self.value_kinds))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("field"):
            return data
        kind = self.vocabulary[data["field"]][2]
        value: Any = data.get("text")
        if kind in self.value_kinds and data.get("op") not in condition_specs.NO_VALUE:
            chosen_kind, value = split(data.get("choice", ""))
            if chosen_kind != kind:
                self.add_error("choice", _("Choose a value of this field."))
                return data
        try:
            row = {"field": data["field"], "op": data.get("op"), "value": value}
            data["row"] = subject_specs.clean_row(self.subject, row)
        except ValueError as exc:
            typed = (
                kind in ("text", "number", "score", "asset_status", "problem_status") and kind not in self.value_kinds
            )
            self.add_error("text" if typed else "op", str(exc))
        return data


ACTION_TARGET_KINDS = ("status", "priority", "group", "user", "category", "chat", "to", "task_template")
TARGET_KIND = {
    "set_status": "status", "set_priority": "priority", "set_group": "group", "set_assignee": "user",
    "set_category": "category", "chat": "chat", "email": "to", "add_tasks": "task_template",
}  # fmt: skip


# "value": an asset tag, an asset type, a problem's reference
ASSET_ACTIONS = ("link_asset", "link_requester_asset", "link_problem")
# problems and changes: the list each action's target comes from ("notify": groups, agents or the record's own)
SUBJECT_TARGET_KIND = {
    "set_group": "group",
    "set_assignee": "user",
    "set_priority": "priority",
    "set_status": "change_move",
}
SUBJECT_TARGET_KINDS: dict[str, tuple[str, ...]] = {
    SUBJECT.PROBLEM: ("group", "user", "priority", "notify"),
    SUBJECT.CHANGE: ("group", "user", "change_move", "notify"),
}


class ActionForm(StyledForm):
    type = forms.ChoiceField(label=_("Action"), required=False)
    target = forms.ChoiceField(label=_("Value or recipient"), required=False)
    template = forms.ChoiceField(label=_("Email template"), required=False)
    value = forms.CharField(
        label=_("Tags, webhook URL, email subject, asset tag or type, problem"), required=False, max_length=500
    )
    address = forms.EmailField(label=_("Fixed address"), required=False)
    text = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=format_lazy("{} {}", _("Placeholders:"), action_specs.placeholder_list()),
    )

    def __init__(self, *args: Any, options: dict[str, Choices], subject: str = SUBJECT.TICKET, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subject = subject
        _choices(self, "type", [("", "—"), *subject_specs.ACTIONS[subject].items()])
        if subject == SUBJECT.TICKET:
            _choices(self, "target", value_choices(options, ACTION_TARGET_KINDS))
            _choices(self, "template", [("", _("none: write the subject and text")), *action_specs.TEMPLATES.items()])
            return
        _choices(self, "target", value_choices(options, SUBJECT_TARGET_KINDS[subject]))
        for name in ("template", "address"):
            del self.fields[name]
        self.fields["value"].label = _("Webhook URL")
        self.fields["text"].help_text = format_lazy(
            "{} {}", _("Placeholders:"), action_specs.placeholder_list(subject_specs.PLACEHOLDERS)
        )

    def _subject_action(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data["type"]
        action: dict[str, Any] = {"type": kind, "text": data.get("text", "")}
        chosen_kind, chosen = split(data.get("target", ""))
        if kind in SUBJECT_TARGET_KIND:
            if chosen_kind != SUBJECT_TARGET_KIND[kind]:
                raise forms.ValidationError({"target": _("Choose a value for this action.")})
            action["value"] = chosen
        if kind == "notify":
            if chosen_kind in ("group", "user"):
                action.update(to=chosen_kind, value=chosen)
            elif chosen_kind == "notify":
                action["to"] = chosen
            else:
                raise forms.ValidationError({"target": _("Choose a group, an agent, the owner or its group.")})
        if kind == "webhook":
            action["url"] = data.get("value", "")
        return action

    def _action(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data["type"]
        if self.subject != SUBJECT.TICKET:
            return self._subject_action(data)
        action: dict[str, Any] = {"type": kind, "text": data.get("text", "")}
        wanted = TARGET_KIND.get(kind)
        if wanted:
            chosen_kind, chosen = split(data.get("target", ""))
            if chosen_kind != wanted:
                raise forms.ValidationError({"target": _("Choose a value for this action.")})
            action["to" if kind == "email" else "value"] = chosen
        if kind in ("add_tags", "remove_tags", *ASSET_ACTIONS):
            action["value"] = data.get("value", "")
        if kind == "webhook":
            action["url"] = data.get("value", "")
        if kind == "email":
            action.update(address=data.get("address", ""), template=data.get("template", ""), subject=data.get("value"))
        return action

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("type"):
            return data
        try:
            data["action"] = subject_specs.clean_action(self.subject, self._action(data))
        except forms.ValidationError as exc:
            self.add_error(None, exc)
        except ValueError as exc:
            in_value = data["type"] in ("add_tags", "remove_tags", "webhook", *ASSET_ACTIONS)
            target = self.subject != SUBJECT.TICKET and data["type"] in ("set_status", "set_priority")
            self.add_error("value" if in_value else "target" if target else "text", str(exc))
        return data


class RowFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def __init__(self, *args: Any, options: dict[str, Choices], subject: str = SUBJECT.TICKET, **kwargs: Any) -> None:
        self.options = options
        self.subject = subject
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "options": self.options, "subject": self.subject}

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].widget.attrs.setdefault("class", "form-check-input")

    @property
    def empty_form(self) -> forms.Form:
        return self.blank_form(None)

    def blank_form(self, index: int | None) -> forms.Form:
        """An empty row at ``index`` ("Add a condition" appends it without saving the rule)."""
        form: forms.Form = self.form(
            auto_id=self.auto_id,
            prefix=self.add_prefix("__prefix__" if index is None else index),
            empty_permitted=True,
            use_required_attribute=False,
            options=self.options,
            subject=self.subject,
        )
        self.add_fields(form, index)
        return form


ConditionFormSet = forms.formset_factory(ConditionForm, formset=RowFormSet, extra=2, max_num=30, can_delete=True)
ActionFormSet = forms.formset_factory(ActionForm, formset=RowFormSet, extra=1, max_num=20, can_delete=True)


def condition_initial(conditions: dict[str, Any], subject: str = SUBJECT.TICKET) -> list[dict[str, Any]]:
    rows = []
    for part in ("all", "any"):
        for row in conditions.get(part) or []:
            kind = subject_specs.FIELDS[subject].get(row.get("field"), ("", (), ""))[2]
            value = row.get("value")
            initial = {"part": part, "field": row.get("field"), "op": row.get("op")}
            if kind in VALUE_KINDS[subject] and value is not None:
                initial["choice"] = f"{kind}:{value}"
            elif value is not None:
                initial["text"] = str(value)
            rows.append(initial)
    return rows


def subject_action_initial(action: dict[str, Any]) -> dict[str, Any]:
    kind = action.get("type", "")
    initial = {"type": kind, "text": action.get("text", ""), "value": action.get("url", "")}
    if kind in SUBJECT_TARGET_KIND:
        initial["target"] = f"{SUBJECT_TARGET_KIND[kind]}:{action.get('value')}"
    if kind == "notify":
        to = action.get("to", "")
        initial["target"] = f"{to}:{action.get('value')}" if to in ("group", "user") else f"notify:{to}"
    return initial


def action_initial(actions: list[dict[str, Any]], subject: str = SUBJECT.TICKET) -> list[dict[str, Any]]:
    if subject != SUBJECT.TICKET:
        return [subject_action_initial(action) for action in actions]
    rows = []
    for action in actions:
        kind = action.get("type", "")
        initial = {"type": kind, "text": action.get("text", ""), "template": action.get("template", "")}
        wanted = TARGET_KIND.get(kind)
        if wanted:
            initial["target"] = f"{wanted}:{action.get('to') if kind == 'email' else action.get('value')}"
        initial["value"] = (
            action.get("url")
            or action.get("subject")
            or (action.get("value", "") if kind in ("add_tags", "remove_tags", *ASSET_ACTIONS) else "")
        )
        initial["address"] = action.get("address", "")
        rows.append(initial)
    return rows


def collect(conditions: Any, actions: Any) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """The rule's conditions and actions from valid formsets (empty and deleted rows left out)."""
    rows: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    for form in conditions.forms:
        if form.cleaned_data.get("row") and not form.cleaned_data.get("DELETE"):
            rows[form.cleaned_data.get("part") or "all"].append(form.cleaned_data["row"])
    chosen = [
        form.cleaned_data["action"]
        for form in actions.forms
        if form.cleaned_data.get("action") and not form.cleaned_data.get("DELETE")
    ]
    return rows, chosen


# --- recurring tickets -------------------------------------------------------------------------------------

REQUESTERS_SHOWN = 20


def requesters() -> QuerySet[User]:
    """Who may be a recurring ticket's requester: active people, not Palier's own accounts."""
    return people_selectors.active_people()


def requesters_matching(q: str) -> tuple[list[User], bool]:
    """The first people whose name or email holds every word of ``q`` (the agents' people search,
    ``people.selectors.people_matching``), Palier's own accounts left out; and whether there are more."""
    found = people_matching(q, limit=REQUESTERS_SHOWN + 6, active_only=True)
    people = [person for person in found if not person.email.endswith(".invalid")]
    return people[:REQUESTERS_SHOWN], len(people) > REQUESTERS_SHOWN


class PersonPicker(forms.Widget):
    """One person out of thousands, without listing them: a search box that asks ``search_url``
    (htmx, as one types) for the matching people, shown as radio buttons named like the field, and
    the current choice as a checked radio button. The field's queryset still checks the id posted."""

    template_name = "agent/automation/widgets/person_picker.html"

    def __init__(self, *, search_url: Any, people: Callable[[], QuerySet[User]], attrs: Any = None) -> None:
        super().__init__(attrs)
        self.search_url = search_url
        self.people = people
        self.person: User | None = None  # the current choice, when the form already has it

    def use_required_attribute(self, initial: Any) -> bool:
        return False  # the search box may stay empty; the choice is checked on the server

    def chosen(self, value: Any) -> User | None:
        raw = str(value or "")
        if self.person is not None and str(self.person.pk) == raw:
            return self.person
        return self.people().filter(pk=raw).first() if raw.isdigit() else None

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        person = self.chosen(value)
        context["widget"].update(search_url=str(self.search_url), people=[person] if person else [])
        return context


class RecurringForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=120)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    schedule = forms.CharField(
        label=_("Schedule (cron)"),
        max_length=100,
        help_text=_("minute hour day month weekday — “0 8 * * 1”: Mondays at 08:00; “30 7 1 * *”: the 1st at 07:30."),
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="Europe/Paris")
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    kind = forms.ChoiceField(label=_("Type"), choices=Ticket.Kind.choices, initial=Ticket.Kind.REQUEST)
    requester = forms.ModelChoiceField(
        label=_("Requester"),
        queryset=requesters(),
        widget=PersonPicker(search_url=reverse_lazy("automation:recurring-requesters"), people=requesters),
        help_text=_("Type part of a name or an email address, then choose the person."),
        error_messages={"invalid_choice": _("Choose an active person from the search results.")},
    )
    group = forms.ModelChoiceField(
        label=_("Group"),
        queryset=people_selectors.groups_by_name(),
        required=False,
        empty_label=_("By the routing rules"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=ticket_selectors.active_categories_by_slug(), required=False
    )
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices, initial=Level.LOW)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Level.choices, initial=Level.LOW)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        picker = self.fields["requester"].widget
        assert isinstance(picker, PersonPicker)
        current = self.initial.get("requester")
        picker.person = current if isinstance(current, User) else None  # editing: no query to show it


def recurring_initial(row: RecurringTicket) -> dict[str, Any]:
    return {name: getattr(row, name) for name in RecurringForm.base_fields}
