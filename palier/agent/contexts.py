"""View-models of the agent workspace: what the templates read, computed without template queries.

The queue's navigation views and the personal saved filters are query strings of the queue's
filter form, so a view, a saved filter and a hand-made filter are the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.http import QueryDict
from django.utils.functional import Promise
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
    for _slug, label, query, counted in VIEWS:
        count = None
        if counted:
            form = FilterForm(QueryDict(query), choices=choices)
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

    @property
    def changed_count(self) -> int:
        return len(self.changed)


def queue_table(
    params: QueryDict, page: selectors.TicketPage, *, sort: str, since: datetime | None, now: datetime
) -> QueueTable:
    """Links and highlights around one page of the queue."""
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
    return QueueTable(
        page=page,
        next_query=next_params.urlencode() if page.next_cursor else "",
        first_query=first_query,
        poll_query=poll.urlencode(),
        sorts=sort_links(params, sort),
        changed=changed,
        is_first_page=not params.get("cursor"),
        now=now,
        problems=problem_selectors.problems_for_tickets([t.pk for t in page.items]),
    )


def merge_card(user: User, ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """The ticket page's "Merge and split" card: the ticket it was merged into (and whether the
    merge may still be undone), the tickets merged into it, its forms (one or two queries)."""
    card = selectors.merge_card(user, ticket)
    deadline = ticket_services.undo_deadline(ticket)
    card["can_undo_merge"] = deadline is not None and now <= deadline
    card["merge_form"] = MergeForm()
    card["split_form"] = SplitForm(comments=[])
    return card
