"""Reads on changes, scoped by ``permissions.visible``: the list with its filters (keyset by id,
newest first), a change's page (timeline, assets, incidents, problems), the ticket page's panel,
and the administration's templates, risk questions and thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from palier.assets.models import Asset
from palier.assets.selectors import assets_visible_to
from palier.lib.text import normalise
from palier.people.models import User
from palier.problems import permissions as problem_permissions
from palier.problems.models import PROBLEM_PREFIX, Problem
from palier.tickets.models import Ticket
from palier.tickets.selectors import tickets_visible_to

from . import permissions, rules
from .models import (
    CHANGE_PREFIX,
    Change,
    ChangeComment,
    ChangeEvent,
    ChangeProblem,
    ChangeSettings,
    ChangeTemplate,
    ChangeTicket,
    RiskQuestion,
)

PAGE_SIZE = 50
TIMELINE_LIMIT = 200
LINKS_ON_PAGE = 100
TICKET_PANEL_LIMIT = 20
MAX_TAGS = 50


def changes_visible_to(user: User) -> QuerySet[Change]:
    return Change.objects.filter(permissions.visible(user))


def get_change_for(user: User, change_id: int | str) -> Change:
    """The change, or 404 when it does not exist or ``user`` may not see it."""
    try:
        key = int(change_id)
    except (TypeError, ValueError):
        raise Http404("change") from None
    change = (
        changes_visible_to(user)
        .select_related("template", "group", "implementer", "requested_by")
        .filter(pk=key)
        .first()
    )
    if change is None:
        raise Http404("change")
    return change


# --- the list -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeFilters:
    """What the list is narrowed by. ``status`` empty: every open change; ``("all",)``: any."""

    status: tuple[str, ...] = ()
    kind: str = ""
    risk: str = ""
    group: int | None = None
    implementer: int | None = None
    q: str = ""

    def apply(self, qs: QuerySet[Change]) -> QuerySet[Change]:
        if not self.status:
            qs = qs.filter(status__in=sorted(rules.OPEN_STATUSES))
        elif "all" not in self.status:
            qs = qs.filter(status__in=self.status)
        exact = {
            "kind": self.kind or None,
            "risk": self.risk or None,
            "group_id": self.group,
            "implementer_id": self.implementer,
        }
        qs = qs.filter(**{key: value for key, value in exact.items() if value is not None})
        if self.q:
            for word in normalise(self.q).split()[:8]:
                qs = qs.filter(search_text__contains=word)
        return qs


@dataclass
class ChangePage:
    items: list[Change]
    next_after: int | None


def change_page(user: User, filters: ChangeFilters, *, after: int | None = None, limit: int = PAGE_SIZE) -> ChangePage:
    """One page of changes, newest first, keyset-paginated by id."""
    qs = filters.apply(changes_visible_to(user))
    if after:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.select_related("group", "implementer").order_by("-id")[: limit + 1])
    return ChangePage(items=rows[:limit], next_after=rows[limit - 1].pk if len(rows) > limit else None)


# --- a change's page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    event: ChangeEvent | None = None
    comment: ChangeComment | None = None


def timeline(change: Change, *, limit: int = TIMELINE_LIMIT) -> list[TimelineItem]:
    """The change's history and comments by time (the newest ``limit`` of each), oldest first.
    Comment events are left out: the comment itself is shown."""
    events = list(
        change.events.exclude(kind=ChangeEvent.Kind.COMMENT).select_related("actor").order_by("-at", "-id")[:limit]
    )
    comments = list(change.comments.select_related("author").order_by("-created_at", "-id")[:limit])
    items = [TimelineItem(at=e.at, event=e) for e in events] + [
        TimelineItem(at=c.created_at, comment=c) for c in comments
    ]
    items.sort(key=lambda item: item.at)
    return items


def assets_of(change: Change) -> list[Asset]:
    """The assets the change names, by tag (their page and impact view are linked)."""
    return list(
        Asset.objects.filter(change_links__change=change)
        .select_related("type")
        .only("id", "tag", "name", "status", "type__name_fr", "type__name_en")
        .order_by("tag")[:LINKS_ON_PAGE]
    )


@dataclass(frozen=True)
class TicketLinkRow:
    ticket: Ticket
    relation: str
    relation_label: str


def tickets_of(user: User, change: Change) -> list[TicketLinkRow]:
    """The incidents linked to the change that ``user`` may see, with the relation."""
    links = (
        ChangeTicket.objects.filter(change=change, ticket__in=tickets_visible_to(user))
        .select_related("ticket")
        .order_by("-linked_at", "-id")[:LINKS_ON_PAGE]
    )
    return [
        TicketLinkRow(ticket=link.ticket, relation=link.relation, relation_label=link.get_relation_display())
        for link in links
    ]


def problems_of(change: Change) -> list[ChangeProblem]:
    return list(ChangeProblem.objects.filter(change=change).select_related("problem").order_by("id")[:LINKS_ON_PAGE])


@dataclass
class ChangePageData:
    change: Change
    timeline: list[TimelineItem]
    assets: list[Asset]
    tickets: list[TicketLinkRow]
    problems: list[ChangeProblem]
    questions: list[RiskQuestion]


def change_page_data(user: User, change: Change) -> ChangePageData:
    return ChangePageData(
        change=change,
        timeline=timeline(change),
        assets=assets_of(change),
        tickets=tickets_of(user, change),
        problems=problems_of(change),
        questions=risk_questions(active_only=True),
    )


# --- finding what a change links to ---------------------------------------------------------------


def assets_by_tags(user: User, tags: list[str]) -> dict[str, Asset]:
    """The assets ``user`` may see among ``tags`` (case ignored), by upper-cased tag; one query."""
    wanted = sorted({t.strip().upper() for t in tags if t.strip()})[:MAX_TAGS]
    if not wanted:
        return {}
    match = Q()
    for tag in wanted:
        match |= Q(tag__iexact=tag)
    return {a.tag.upper(): a for a in assets_visible_to(user).filter(match).only("id", "tag", "name")}


def get_asset_in_change(change: Change, asset_id: int) -> Asset:
    asset = Asset.objects.filter(pk=asset_id, change_links__change=change).first()
    if asset is None:
        raise Http404("asset")
    return asset


def get_ticket_by_reference(user: User, reference: str) -> Ticket | None:
    """A ticket ``user`` may see by its reference (INC-12, REQ-3); None otherwise."""
    prefix, _dash, number = reference.strip().upper().partition("-")
    kinds = {v: k for k, v in Ticket.PREFIXES.items()}
    if prefix not in kinds or not number.isdigit():
        return None
    return tickets_visible_to(user).filter(kind=kinds[prefix], number=int(number)).first()


def get_problem_by_reference(user: User, reference: str) -> Problem | None:
    """A problem ``user`` may see by its reference (PRB-12, or just 12); None otherwise."""
    text = reference.strip().upper()
    number = text.removeprefix(f"{PROBLEM_PREFIX}-")
    if not number.isdigit():
        return None
    return Problem.objects.filter(problem_permissions.visible(user), number=int(number)).first()


def get_change_by_reference(user: User, reference: str) -> Change | None:
    number = reference.strip().upper().removeprefix(f"{CHANGE_PREFIX}-")
    if not number.isdigit():
        return None
    return changes_visible_to(user).filter(number=int(number)).first()


# --- the ticket page ------------------------------------------------------------------------------


def changes_of_ticket(user: User, ticket_id: int) -> list[ChangeTicket]:
    """The changes linked to a ticket (newest first) with their relation; one query."""
    if not permissions.can(user, "view"):
        return []
    return list(
        ChangeTicket.objects.filter(ticket_id=ticket_id)
        .select_related("change")
        .only("id", "relation", "change__id", "change__number", "change__title", "change__status", "change__kind")
        .order_by("-change_id")[:TICKET_PANEL_LIMIT]
    )


# --- templates, risk questions, thresholds --------------------------------------------------------


def active_templates() -> list[ChangeTemplate]:
    return list(ChangeTemplate.objects.filter(is_active=True).select_related("group"))


def all_templates() -> list[ChangeTemplate]:
    return list(ChangeTemplate.objects.select_related("group").order_by("-is_active", "name_en", "id")[:500])


def get_template(template_id: int | str) -> ChangeTemplate:
    try:
        key = int(template_id)
    except (TypeError, ValueError):
        raise Http404("template") from None
    template = ChangeTemplate.objects.select_related("group").filter(pk=key).first()
    if template is None:
        raise Http404("template")
    return template


def find_active_template(template_id: Any) -> ChangeTemplate | None:
    """The template of that id if it exists (active or not: the service refuses a switched-off one)."""
    try:
        key = int(template_id)
    except (TypeError, ValueError):
        return None
    return ChangeTemplate.objects.select_related("group").filter(pk=key).first()


def templates_for_admin(*, active: bool | None = None) -> QuerySet[ChangeTemplate]:
    rows = ChangeTemplate.objects.select_related("group")
    return rows if active is None else rows.filter(is_active=active)


def questions_for_admin() -> QuerySet[RiskQuestion]:
    return RiskQuestion.objects.all()


def risk_questions(*, active_only: bool = False) -> list[RiskQuestion]:
    qs = RiskQuestion.objects.all()
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("order", "id")[:200])


def get_question(question_id: int | str) -> RiskQuestion:
    try:
        key = int(question_id)
    except (TypeError, ValueError):
        raise Http404("question") from None
    question = RiskQuestion.objects.filter(pk=key).first()
    if question is None:
        raise Http404("question")
    return question


def change_settings() -> ChangeSettings:
    return ChangeSettings.current()
