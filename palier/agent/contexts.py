"""View-models of the agent workspace: what the templates read, computed without template queries.

The queue's navigation views and the personal saved filters are query strings of the queue's
filter form, so a view, a saved filter and a hand-made filter are the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from palier.agent.forms.merge import MergeForm, SplitForm
from palier.agent.workspace_forms import SORTABLE, Choices, FilterForm
from palier.catalog import selectors as catalog_selectors
from palier.people import selectors as people_selectors
from palier.people.models import User
from palier.problems import major_selectors
from palier.problems import search as problem_search
from palier.problems import selectors as problem_selectors
from palier.routing import selectors as routing_selectors
from palier.surveys import selectors as survey_selectors
from palier.tickets import selectors
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

COUNT_CAP = 100
MINE = "assignee=me"  # the query of the agent's own open tickets
# slug, label, query string, counted in the navigation
VIEWS: list[tuple[str, Promise, str, bool]] = [
    ("mine", _("My open tickets"), MINE, True),
    ("unassigned", _("Unassigned in my groups"), "assignee=none&group=mine", True),
    ("groups", _("All open in my groups"), "group=mine", True),
    ("pending", _("Pending"), "status=pending", True),
    ("recent", _("Recently updated"), "sort=-updated&status=all", False),
    ("resolved", _("Resolved"), "sort=-updated&status=resolved", False),
]
TRANSIENT = ("cursor", "since")  # parameters that do not define a view
# the queue's compact filter bar; every other filter is behind "More filters"
BAR_FILTERS = ("q", "status", "assignee", "group", "priority")
SLA_AT_RISK = timedelta(hours=1)  # an open ticket whose SLA falls due sooner is shown "at risk"


def workspace_choices(*, organisations: bool = False) -> Choices:
    """Groups, agents and categories for the workspace forms (three queries), and the
    organisations for the queue's filters (a fourth)."""
    return Choices(
        groups=list(people_selectors.support_groups()),
        agents=list(people_selectors.active_agents()),
        categories=selectors.category_choices(),
        organisations=[(o.pk, o.name) for o in people_selectors.organisations_by_name()] if organisations else None,
    )


def ticket_page_extras(user: User, ticket: Ticket) -> dict[str, Any]:
    """What other apps show on the ticket page around the timeline and the panel, for the
    template tags to format: the catalog request (its answers, approvals and tasks), the groups
    the ticket may be escalated to and the requester's rating (three queries; up to seven for a
    catalog request)."""
    return {
        "catalog_request": catalog_selectors.request_for_ticket(user, ticket),
        "escalation_groups": routing_selectors.escalation_groups(),
        "survey_response": survey_selectors.response_for_ticket(ticket),
        "major_banner": major_selectors.banner_for(ticket),  # the major incident it is or is attached to
        "problem_badge": problem_selectors.problems_for_tickets([ticket.pk]).get(ticket.pk),
        # known errors that may explain an open incident (none once it is linked to a problem)
        "known_errors": problem_search.suggestions_for(user, ticket),
    }


def view_query(params: QueryDict) -> str:
    """The query string that defines a view: filters and sort, without cursor or poll time."""
    clean = params.copy()
    for name in TRANSIENT:
        clean.pop(name, None)
    for name in [k for k, values in clean.lists() if not any(values)]:
        clean.pop(name)
    return "&".join(sorted(clean.urlencode().split("&"))) if clean else ""


@dataclass
class NavItem:
    label: str
    query: str
    current: bool
    count: int | None = None
    saved_id: int | None = None

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        return f"{COUNT_CAP - 1}+" if self.count >= COUNT_CAP else str(self.count)


def navigation(user: User, *, current: str, choices: Choices, my_groups: list[int]) -> list[NavItem]:
    """The left navigation: the fixed views (open ones with a count capped at 99+)."""
    items = []
    # the fixed views name no group, person or category: their forms need none of the choices
    # (building the choice lists of four forms cost more than counting)
    bare = Choices(groups=[], agents=[], categories=[])
    for _slug, label, query, counted in VIEWS:
        count = None
        if counted:
            form = FilterForm(QueryDict(query), choices=bare)
            filters = form.to_filters(user, my_groups=my_groups)
            count = selectors.ticket_count_capped(user, filters=filters, cap=COUNT_CAP)
        items.append(NavItem(str(label), query, query == current, count))
    return items


def saved_navigation(user: User, *, current: str) -> list[NavItem]:
    return [
        NavItem(s.name, s.query, view_query(QueryDict(s.query)) == current, saved_id=s.pk)
        for s in selectors.saved_filters_for(user)
    ]


@dataclass
class SortLink:
    query: str
    aria_sort: str  # "ascending", "descending" or "none"


def sort_links(params: QueryDict, sort: str) -> dict[str, SortLink]:
    """For each sortable column: the query that sorts by it (toggling), and its aria-sort."""
    links = {}
    for column, (ascending, descending) in SORTABLE.items():
        clean = params.copy()
        for name in TRANSIENT:
            clean.pop(name, None)
        clean["sort"] = descending if sort == ascending else ascending
        state = "ascending" if sort == ascending else "descending" if sort == descending else "none"
        links[column] = SortLink(clean.urlencode(), state)
    return links


@dataclass
class QueueTable:
    page: selectors.TicketPage
    next_query: str
    first_query: str
    poll_query: str
    sorts: dict[str, SortLink]
    changed: set[int] = field(default_factory=set)
    is_first_page: bool = True
    now: datetime | None = None
    problems: dict[int, problem_selectors.ProblemBadge] = field(default_factory=dict)  # ticket id -> its problem
    rows: list[dict[str, Any]] = field(default_factory=list)  # one plain dict per ticket, ready to print

    @property
    def changed_count(self) -> int:
        return len(self.changed)


def _when(value: datetime) -> tuple[str, str]:
    """A time as the row prints it: ISO (``datetime``) and the full local date (``title``)."""
    local = timezone.localtime(value)
    return local.isoformat(), date_format(local, "DATETIME_FORMAT")


def _sla_state(ticket: Ticket, now: datetime) -> str:
    due = ticket.sla_due_at
    if due is None or not ticket.is_open:
        return ""
    if due < now:
        return "breached"
    return "risk" if due < now + SLA_AT_RISK else "ok"


def queue_rows(
    items: list[Ticket], *, changed: set[int], problems: dict[int, problem_selectors.ProblemBadge], now: datetime
) -> list[dict[str, Any]]:
    """The queue's rows, computed once in Python: the row template only prints (no URL reversing,
    translation lookups or model methods per row in the template)."""
    marker = "2147483647"
    detail = reverse("agent:ticket-detail", args=[int(marker)])
    take = reverse("agent:queue-take", args=[int(marker)])
    select_label, take_label = gettext("Select %(ref)s"), gettext("Take %(ref)s")
    rows = []
    for t in items:
        pk, ref = str(t.pk), t.reference
        updated_iso, updated_title = _when(t.updated_at)
        sla = _sla_state(t, now)
        sla_iso, sla_title = _when(t.sla_due_at) if sla and t.sla_due_at else ("", "")
        rows.append(
            {
                "pk": t.pk,
                "ref": ref,
                "href": detail.replace(marker, pk),
                "subject": t.subject,
                "requester": t.requester.display_name,
                "priority": t.priority,
                "status": t.status,
                "status_label": t.get_status_display(),
                "group": t.group.name if t.group_id and t.group else "",
                "assignee": t.assignee.display_name if t.assignee_id and t.assignee else "",
                "take_url": take.replace(marker, pk) if t.assignee_id is None and t.is_open else "",
                "take_label": take_label % {"ref": ref},
                "select_label": select_label % {"ref": ref},
                "changed": t.pk in changed,
                "problem": problems.get(t.pk),
                "updated_iso": updated_iso,
                "updated_title": updated_title,
                "updated_text": naturaltime(t.updated_at),
                "sla": sla,
                "sla_iso": sla_iso,
                "sla_title": sla_title,
                "sla_text": naturaltime(t.sla_due_at) if sla and t.sla_due_at else "",
            }
        )
    return rows


def queue_table(
    params: QueryDict, page: selectors.TicketPage, *, sort: str, since: datetime | None, now: datetime
) -> QueueTable:
    """Links and highlights around one page of the queue, and its rows ready to print."""
    base = params.copy()
    for name in TRANSIENT:
        base.pop(name, None)
    first_query = base.urlencode()
    next_params = base.copy()
    if page.next_cursor:
        next_params["cursor"] = page.next_cursor
    poll = params.copy()
    poll["since"] = now.isoformat()
    changed = {t.pk for t in page.items if since is not None and t.updated_at > since}
    problems = problem_selectors.problems_for_tickets([t.pk for t in page.items])
    return QueueTable(
        page=page,
        next_query=next_params.urlencode() if page.next_cursor else "",
        first_query=first_query,
        poll_query=poll.urlencode(),
        sorts=sort_links(params, sort),
        changed=changed,
        is_first_page=not params.get("cursor"),
        now=now,
        problems=problems,
        rows=queue_rows(page.items, changed=changed, problems=problems, now=now),
    )


@dataclass
class Chip:
    """An active filter of the queue, shown as a chip; ``remove_query`` is the view without it."""

    label: str
    value: str
    remove_query: str


def _choice_label(form: FilterForm, name: str, value: str) -> str:
    for key, label in getattr(form.fields[name], "choices", []):
        if str(key) == value:
            return str(label)
    return value


def filter_chips(params: QueryDict, form: FilterForm) -> list[Chip]:
    """The active filters of the queue (sort and paging are not filters), each removable."""
    base = params.copy()
    for name in (*TRANSIENT, "sort"):
        base.pop(name, None)
    chips = []
    for name, values in base.lists():
        if name not in form.fields:
            continue
        for value in values:
            if not value:
                continue
            rest = base.copy()
            rest.setlist(name, [v for v in values if v != value])
            shown = value if name == "q" or not hasattr(form.fields[name], "choices") else None
            text = shown if shown is not None else _choice_label(form, name, value)
            chips.append(Chip(str(form.fields[name].label), text, view_query(rest)))
    return chips


def more_filters_count(params: QueryDict) -> int:
    """How many filters behind "More filters" are set (shown on its summary)."""
    hidden = (*BAR_FILTERS, *TRANSIENT, "sort")
    return sum(1 for name, values in params.lists() if name not in hidden and any(values))


def merge_card(user: User, ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """The ticket page's "Merge and split" card: the ticket it was merged into (and whether the
    merge may still be undone), the tickets merged into it, its forms (one or two queries)."""
    card = selectors.merge_card(user, ticket)
    deadline = ticket_services.undo_deadline(ticket)
    card["can_undo_merge"] = deadline is not None and now <= deadline
    card["merge_form"] = MergeForm()
    card["split_form"] = SplitForm(comments=[])
    return card
