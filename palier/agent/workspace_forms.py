"""Forms of the agent workspace: queue filters, bulk actions, reply box, side-panel edits, log a call.

Choices (groups, agents, categories) are passed in by the views so that building a form never
queries the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.lib.web import MultipleFileField, StyledForm
from palier.people.models import SupportGroup, User
from palier.tickets.models import Level, Ticket, TicketLink
from palier.tickets.rules import allowed_targets
from palier.tickets.selectors import TicketFilters

S = Ticket.Status
OPEN = ""
ALL = "all"
PENDING = "pending"
PENDING_STATUSES = [S.PENDING_REQUESTER, S.PENDING_VENDOR, S.PENDING_CHANGE]
MINE = "mine"
ME = "me"
NOBODY = "none"
MULTIPLE = ("priority", "groups", "level")  # the queue's filters that take several values

# header sorts: column -> (ascending sort, descending sort); all are in selectors.SORTS
SORTABLE = {
    "number": ("created", "-created"),
    "priority": ("priority", "-priority"),
    "updated": ("updated", "-updated"),
    "sla": ("sla", "-sla"),
}
SORT_CHOICES = [
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
    ("priority", _("Most urgent first")),
    ("-priority", _("Least urgent first")),
    ("-updated", _("Recently updated")),
    ("updated", _("Least recently updated")),
    ("sla", _("SLA due soonest")),
    ("-sla", _("SLA due latest")),
]


def _choices(field: forms.Field, values: list[tuple[Any, Any]]) -> None:
    cast(forms.ChoiceField, field).choices = values


def group_choices(groups: list[SupportGroup]) -> list[tuple[str, str]]:
    return [(str(g.pk), str(g)) for g in groups]


def agent_choices(agents: list[User]) -> list[tuple[str, str]]:
    return [(str(a.pk), a.display_name) for a in agents]


def _as_int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _ints(values: list[str] | None) -> list[int]:
    return sorted({int(v) for v in values or [] if v.isdigit()})


def _groups(data: dict[str, Any], my_groups: list[int]) -> list[int] | None:
    """Several groups: "my groups", or the ``groups`` chosen (a dashboard's drill-down)."""
    if data.get("group") == MINE:
        return my_groups
    return _ints(data.get("groups")) or None


class Choices:
    """The lists a workspace form chooses from, fetched once per request by the view."""

    def __init__(
        self,
        *,
        groups: list[SupportGroup],
        agents: list[User],
        categories: list[tuple[int, str]],
        organisations: list[tuple[int, str]] | None = None,
    ) -> None:
        self.groups = groups
        self.agents = agents
        self.categories = categories
        self.organisations = organisations or []  # only the queue's filter form lists them

    def group(self, pk: int | None) -> SupportGroup | None:
        return next((g for g in self.groups if g.pk == pk), None)

    def agent(self, pk: int | None) -> User | None:
        return next((a for a in self.agents if a.pk == pk), None)


class FilterForm(StyledForm):
    """The queue's filters (GET). Navigation views and saved filters are query strings of this form."""

    q = forms.CharField(label=_("Text"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    priority = forms.MultipleChoiceField(label=_("Priority"), required=False)
    kind = forms.ChoiceField(label=_("Type"), required=False)
    group = forms.ChoiceField(label=_("Group"), required=False)
    groups = forms.MultipleChoiceField(label=_("Groups (several)"), required=False)
    level = forms.MultipleChoiceField(label=_("Level"), required=False)
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    created_after = forms.DateTimeField(label=_("Created from"), required=False)
    created_before = forms.DateTimeField(label=_("Created before"), required=False)
    resolved_after = forms.DateTimeField(label=_("Resolved from"), required=False)
    resolved_before = forms.DateTimeField(label=_("Resolved before"), required=False)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False)
    cursor = forms.CharField(max_length=500, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        pending = (PENDING, _("Pending (any)"))
        _choices(f["status"], [(OPEN, _("All open")), (ALL, _("Any status")), pending, *S.choices])
        _choices(f["priority"], [(str(p), f"P{p}") for p in (1, 2, 3, 4, 5)])
        _choices(f["kind"], [("", _("Any type")), *Ticket.Kind.choices])
        _choices(f["group"], [("", _("All groups")), (MINE, _("My groups")), *group_choices(choices.groups)])
        _choices(f["groups"], group_choices(choices.groups))
        _choices(f["level"], [(str(v), label) for v, label in SupportGroup.Level.choices])
        people = agent_choices(choices.agents)
        _choices(f["assignee"], [("", _("Anyone")), (ME, _("Me")), (NOBODY, _("Unassigned")), *people])
        _choices(f["category"], [("", _("Any category")), *((str(pk), name) for pk, name in choices.categories)])
        organisations = ((str(pk), name) for pk, name in choices.organisations)
        _choices(f["organisation"], [("", _("Any organisation")), *organisations])
        _choices(f["channel"], [("", _("Any channel")), *Ticket.Channel.choices])
        for name in MULTIPLE:
            f[name].widget.attrs["size"] = 3
        if self.is_bound and isinstance(self.data, QueryDict):  # "priority=" (an old link) means any
            data = self.data.copy()
            for name in MULTIPLE:
                data.setlist(name, [v for v in data.getlist(name) if v])
            self.data = data

    def _data(self) -> dict[str, Any]:
        return self.cleaned_data if self.is_valid() else {}

    def to_filters(self, user: User, *, my_groups: list[int]) -> TicketFilters:
        data = self._data()
        status = data.get("status", OPEN)
        assignee = data.get("assignee", "")
        statuses = PENDING_STATUSES if status == PENDING else ([status] if status not in (OPEN, ALL) else [])
        return TicketFilters(
            status=[str(s) for s in statuses],
            open_only=status == OPEN,
            priority=_ints(data.get("priority")),
            kind=data.get("kind") or None,
            group=_as_int(data.get("group", "")),
            groups=_groups(data, my_groups),
            levels=_ints(data.get("level")),
            assignee=user.pk if assignee == ME else _as_int(assignee),
            unassigned=assignee == NOBODY,
            category=_as_int(data.get("category", "")),
            organisation=_as_int(data.get("organisation", "")),
            channel=data.get("channel") or None,
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
            resolved_after=data.get("resolved_after"),
            resolved_before=data.get("resolved_before"),
            q=data.get("q", ""),
        )

    @property
    def sort_order(self) -> str:
        return self._data().get("sort") or "-created"

    @property
    def page_cursor(self) -> str | None:
        return self._data().get("cursor") or None


class SinceForm(forms.Form):
    """The time of the previous poll of the queue (rows changed after it are highlighted)."""

    since = forms.DateTimeField(required=False)

    def value(self) -> datetime | None:
        return self.cleaned_data.get("since") if self.is_valid() else None


class BulkForm(StyledForm):
    """Selected tickets (checkboxes named ``tickets``) and the change to apply to all of them."""

    tickets = forms.TypedMultipleChoiceField(label=_("Selected tickets"), coerce=int)
    group = forms.ChoiceField(label=_("Move to group"), required=False)
    assignee = forms.ChoiceField(label=_("Assign to"), required=False)
    status = forms.ChoiceField(label=_("Change status to"), required=False)
    note = forms.CharField(
        label=_("Internal note"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
    # "select every ticket of this view": the view's query string, and how many tickets the
    # agent was shown and confirmed (the change is refused if the view has since grown or shrunk)
    all_matching = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)
    expected = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        ids = self.data.getlist("tickets") if hasattr(self.data, "getlist") else []
        _choices(self.fields["tickets"], [(v, v) for v in ids if str(v).isdigit()])
        self.fields["tickets"].required = False
        f = self.fields
        _choices(f["group"], [("", _("Keep the group")), *group_choices(choices.groups)])
        people = agent_choices(choices.agents)
        _choices(f["assignee"], [("", _("Keep the assignee")), (ME, _("Me")), (NOBODY, _("Nobody")), *people])
        _choices(f["status"], [("", _("Keep the status")), *S.choices])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("all_matching"):
            if data.get("expected") is None:
                self.add_error(None, _("Confirm how many tickets of the view to change."))
        elif not data.get("tickets") and "tickets" not in self.errors:
            self.add_error("tickets", _("Select at least one ticket."))
        return data

    def change_kwargs(self, user: User) -> dict[str, Any]:
        data = self.cleaned_data
        assignee = data["assignee"]
        return {
            "group": self.choices.group(_as_int(data["group"])),
            "assignee": user if assignee == ME else self.choices.agent(_as_int(assignee)),
            "unassign": assignee == NOBODY,
            "status": data["status"] or None,
            "note": data["note"],
        }


class ReplyForm(StyledForm):
    """The reply box. ``version`` and ``since`` are what the author saw (collision detection)."""

    PUBLIC = "public"
    INTERNAL = "internal"

    visibility = forms.ChoiceField(
        label=_("Who can read it?"),
        choices=[(PUBLIC, _("Public reply (the requester sees it)")), (INTERNAL, _("Internal note (agents only)"))],
        widget=forms.RadioSelect,
        initial=PUBLIC,
    )
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 5, "data-kb-reply": True}), max_length=100_000
    )
    attachments = MultipleFileField(label=_("Attachments"))
    # optional time spent, logged with the message (palier/timelog); the timer may fill it
    minutes = forms.IntegerField(
        label=_("Time spent (minutes)"),
        min_value=1,
        max_value=1440,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "data-timer-minutes": "1"}),
    )
    time_source = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-timer-source": "1"}))
    version = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    since = forms.DateTimeField(required=False, widget=forms.HiddenInput)


class DraftForm(forms.Form):
    """The reply box's autosave: the text so far and who it is for (no files, no time)."""

    body = forms.CharField(required=False, strip=False, max_length=100_000)
    visibility = forms.ChoiceField(
        choices=[(ReplyForm.PUBLIC, ReplyForm.PUBLIC), (ReplyForm.INTERNAL, ReplyForm.INTERNAL)],
        required=False,
    )


class StampForm(forms.Form):
    """What the page was rendered with: the ticket version and the time (presence poll)."""

    version = forms.IntegerField(min_value=1, required=False)
    since = forms.DateTimeField(required=False)

    def stamp(self) -> tuple[int | None, datetime]:
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("version"), data.get("since") or timezone.now()


class _Versioned(StyledForm):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class StatusForm(_Versioned):
    status = forms.ChoiceField(label=_("Status"))
    note = forms.CharField(label=_("Note (optional)"), max_length=2000, required=False)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = allowed_targets(ticket.status, as_requester=False)
        _choices(self.fields["status"], [(v, label) for v, label in S.choices if v in allowed])


class PriorityForm(_Versioned):
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Level.choices)


class GroupEditForm(_Versioned):
    group = forms.ChoiceField(label=_("Group"))

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        _choices(self.fields["group"], group_choices(choices.groups))

    def changes(self, user: User) -> dict[str, Any]:
        return {"group": self.choices.group(_as_int(self.cleaned_data["group"]))}


class AssigneeForm(_Versioned):
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices
        _choices(self.fields["assignee"], [("", _("Unassigned")), *agent_choices(choices.agents)])

    def changes(self, user: User) -> dict[str, Any]:
        return {"assignee": self.choices.agent(_as_int(self.cleaned_data["assignee"]))}


class CategoryForm(_Versioned):
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["category"], [("", _("No category")), *choices.categories])


class KindForm(_Versioned):
    kind = forms.ChoiceField(label=_("Type"), choices=Ticket.Kind.choices)


class TagsForm(_Versioned):
    tags = forms.CharField(label=_("Tags"), max_length=1100, required=False, help_text=_("Separate tags with commas."))


class WatcherForm(_Versioned):
    email = forms.EmailField(label=_("Add a watcher (email address)"))


class UnwatchForm(_Versioned):
    user = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class LinkForm(_Versioned):
    kind = forms.ChoiceField(label=_("Link type"), choices=TicketLink.Kind.choices)
    reference = forms.CharField(label=_("Other ticket (e.g. INC-1042)"), max_length=30)


class UnlinkForm(_Versioned):
    link = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class SavedFilterForm(StyledForm):
    name = forms.CharField(label=_("Name of this view"), max_length=80)
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search tickets and people"), max_length=200, required=False)


class CallForm(StyledForm):
    """Log a call: the agent opens a ticket on behalf of a caller (channel "phone")."""

    caller_q = forms.CharField(label=_("Find the caller (name or email)"), max_length=200, required=False)
    caller = forms.IntegerField(label=_("Caller"), min_value=1, widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("Type"), choices=Ticket.Kind.choices, initial=Ticket.Kind.INCIDENT)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, empty_value=None, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(label=_("What the caller says"), widget=forms.Textarea(attrs={"rows": 6}))
    impact = forms.ChoiceField(label=_("Impact"), choices=Level.choices, initial=Level.LOW)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Level.choices, initial=Level.LOW)
    minutes = forms.IntegerField(
        label=_("Call duration (minutes)"), min_value=1, max_value=600,
        help_text=_("Counted as time spent on the ticket."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )  # fmt: skip
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, categories: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caller"].error_messages["required"] = _("Find and choose the caller first.")
        self.fields["minutes"].error_messages.update(
            required=_("How long was the call? Between 1 and 600 minutes."),
            min_value=_("How long was the call? Between 1 and 600 minutes."),
            max_value=_("How long was the call? Between 1 and 600 minutes."),
        )
        _choices(self.fields["category"], [("", _("No category")), *categories])


class VersionForm(_Versioned):
    """Only the version the agent saw ("take it")."""
