"""Reads on problems, scoped by ``permissions.visible``: the list and its filters, a problem's page
(timeline, incidents, assets, articles, changes, watchers, files), and the problem badges of the
queue and the ticket page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound
from palier.lib.text import normalise
from palier.people.models import User
from palier.tickets.models import Ticket
from palier.tickets.selectors import tickets_visible_to

from . import permissions
from .models import (
    Problem,
    ProblemArticle,
    ProblemAsset,
    ProblemAttachment,
    ProblemComment,
    ProblemEvent,
    ProblemIncident,
    ProblemSettings,
)

PAGE_SIZE = 50
INCIDENTS_ON_PAGE = 50
TIMELINE_LIMIT = 200
OPEN_STATUSES: tuple[str, ...] = tuple(
    s for s in Problem.Status.values if s not in (Problem.Status.RESOLVED, Problem.Status.CLOSED)
)
ALL = "all"
MAX_FROM_QUEUE = 1000  # tickets taken from the queue's selection at once


def problems_visible_to(user: User) -> QuerySet[Problem]:
    return Problem.objects.filter(permissions.visible(user))


def get_problem_for(user: User, pk: int | str) -> Problem:
    """The problem, or NotFound when it does not exist or ``user`` may not see it."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Problem not found.")) from None
    problem = (
        problems_visible_to(user).select_related("category", "group", "assignee", "created_by").filter(pk=key).first()
    )
    if problem is None:
        raise NotFound(_("Problem not found."))
    return problem


def parse_reference(text: str) -> int | None:
    """The number of "PRB-12" (any case, spaces around), or of a bare "12"; None otherwise."""
    value = (text or "").strip().upper()
    prefix, dash, number = value.partition("-")
    if not dash:
        number, prefix = prefix, "PRB"
    if prefix != "PRB" or not number.isdigit():
        return None
    return int(number)


def get_problem_by_reference(user: User, reference: str) -> Problem:
    """The problem "PRB-12" names, or NotFound."""
    number = parse_reference(reference)
    problem = problems_visible_to(user).filter(number=number).first() if number is not None else None
    if problem is None:
        raise NotFound(_("No problem %(ref)s.") % {"ref": (reference or "").strip()[:40] or "—"})
    return problem


# --- the list ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemFilters:
    """What the list of problems is narrowed by. ``status`` empty: the open ones; ``("all",)``: all."""

    q: str = ""
    status: tuple[str, ...] = ()
    group: int | None = None
    assignee: int | None = None
    category: int | None = None
    priority: int | None = None

    def apply(self, qs: QuerySet[Problem]) -> QuerySet[Problem]:
        if not self.status:
            qs = qs.filter(status__in=OPEN_STATUSES)
        elif ALL not in self.status:
            qs = qs.filter(status__in=self.status)
        exact = {
            "group_id": self.group,
            "assignee_id": self.assignee,
            "category_id": self.category,
            "priority": self.priority,
        }
        qs = qs.filter(**{key: value for key, value in exact.items() if value is not None})
        if self.q:
            number = parse_reference(self.q)
            words = normalise(self.q).split()[:8]
            text = Q()
            for word in words:
                text &= Q(search_text__contains=word)
            qs = qs.filter(text | Q(number=number)) if number is not None else qs.filter(text)
        return qs


@dataclass
class ProblemPage:
    items: list[Problem]
    next_after: int | None


def problem_page(
    user: User, filters: ProblemFilters, *, after: int | None = None, limit: int = PAGE_SIZE
) -> ProblemPage:
    """One page of problems, newest first, keyset-paginated by id."""
    qs = filters.apply(problems_visible_to(user))
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.select_related("category", "group", "assignee").order_by("-id")[: limit + 1])
    return ProblemPage(items=rows[:limit], next_after=rows[limit - 1].pk if len(rows) > limit else None)


# --- a problem's page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    """One line of the problem's timeline: an event or a comment."""

    at: datetime
    event: ProblemEvent | None = None
    comment: ProblemComment | None = None


def timeline(problem: Problem, *, limit: int = TIMELINE_LIMIT) -> list[TimelineItem]:
    """Events and comments merged by time, oldest first (the latest ``limit`` of each)."""
    events = list(problem.events.select_related("actor").order_by("-at", "-id")[:limit])
    comments = list(problem.comments.select_related("author").order_by("-created_at", "-id")[:limit])
    items = [TimelineItem(at=e.at, event=e) for e in events if e.kind != ProblemEvent.Kind.COMMENT]
    items += [TimelineItem(at=c.created_at, comment=c) for c in comments]
    items.sort(key=lambda item: (item.at, item.comment is not None))
    return items


@dataclass
class IncidentPage:
    links: list[ProblemIncident]
    next_after: int | None


def incidents_of(
    user: User, problem: Problem, *, after: int | None = None, limit: int = INCIDENTS_ON_PAGE
) -> IncidentPage:
    """The incidents linked to the problem that ``user`` may see, most recently linked first,
    keyset-paginated by the link's id."""
    qs = ProblemIncident.objects.filter(problem=problem, ticket__in=tickets_visible_to(user))
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(
        qs.select_related("ticket", "ticket__requester")
        .only(
            "id",
            "linked_at",
            "notified_at",
            "workaround_applied_at",
            "ticket__id",
            "ticket__kind",
            "ticket__number",
            "ticket__subject",
            "ticket__status",
            "ticket__created_at",
            "ticket__requester__id",
            "ticket__requester__full_name",
            "ticket__requester__email",
        )
        .order_by("-id")[: limit + 1]
    )
    return IncidentPage(links=rows[:limit], next_after=rows[limit - 1].pk if len(rows) > limit else None)


def incident_count(problem: Problem) -> int:
    return ProblemIncident.objects.filter(problem=problem).count()


def open_incident_count(problem: Problem) -> int:
    return ProblemIncident.objects.filter(problem=problem, ticket__status__in=Ticket.OPEN_STATUSES).count()


def assets_of(problem: Problem) -> list[ProblemAsset]:
    return list(problem.asset_links.select_related("asset", "asset__type").order_by("asset__tag")[:200])


def articles_of(problem: Problem) -> list[ProblemArticle]:
    return list(
        problem.article_links.select_related("article").prefetch_related("article__translations").order_by("id")[:100]
    )


def changes_of(problem: Problem) -> list[Any]:
    """The changes linked to the problem (``changes.ChangeProblem`` rows, with their change)."""
    return list(problem.change_links.select_related("change").order_by("-id")[:100])


def watchers_of(problem: Problem) -> list[User]:
    return list(problem.watchers.order_by("full_name", "id")[:200])


def attachments_of(problem: Problem) -> list[ProblemAttachment]:
    return list(problem.attachments.select_related("uploaded_by").order_by("-uploaded_at", "-id")[:100])


def get_attachment_for(user: User, problem_id: int, attachment_id: int) -> ProblemAttachment:
    """A file of a problem ``user`` may see, or NotFound."""
    found = ProblemAttachment.objects.filter(
        pk=attachment_id, problem__in=problems_visible_to(user).filter(pk=problem_id)
    ).first()
    if found is None:
        raise NotFound(_("File not found."))
    return found


def get_incident_link_for(user: User, problem: Problem, ticket_id: int) -> ProblemIncident:
    found = (
        ProblemIncident.objects.filter(problem=problem, ticket_id=ticket_id, ticket__in=tickets_visible_to(user))
        .select_related("ticket")
        .first()
    )
    if found is None:
        raise NotFound(_("This incident is not linked to the problem."))
    return found


def get_asset_link_for(problem: Problem, asset_id: int) -> ProblemAsset:
    found = ProblemAsset.objects.filter(problem=problem, asset_id=asset_id).select_related("asset").first()
    if found is None:
        raise NotFound(_("This asset is not linked to the problem."))
    return found


def tickets_by_references(user: User, text: str) -> tuple[list[int], list[str]]:
    """The ids of the tickets "INC-12, INC-40 #41" names that ``user`` may see, and the words
    that name none (bad references or tickets they may not see)."""
    words = [w for w in text.replace(",", " ").replace(";", " ").split() if w]
    kinds = {prefix: kind for kind, prefix in Ticket.PREFIXES.items()}
    wanted: dict[tuple[str, int], str] = {}
    bad: list[str] = []
    for word in words[:1000]:
        prefix, dash, number = word.strip().upper().lstrip("#").partition("-")
        if not dash:
            prefix, number = "INC", prefix
        if prefix not in kinds or not number.isdigit():
            bad.append(word)
            continue
        wanted[(kinds[prefix], int(number))] = word
    if not wanted:
        return [], bad
    query = Q()
    for kind, seq in wanted:
        query |= Q(kind=kind, number=seq)
    found = {(k, n): pk for pk, k, n in tickets_visible_to(user).filter(query).values_list("pk", "kind", "number")}
    bad += [word for key, word in wanted.items() if key not in found]
    return [found[key] for key in wanted if key in found], bad


def tickets_for_new_problem(user: User, ids: Iterable[int]) -> list[Ticket]:
    """The incidents to prefill a new problem with, as ``user`` may see them (at most 500)."""
    wanted = sorted({int(i) for i in ids})[:500]
    if not wanted:
        return []
    return list(
        tickets_visible_to(user)
        .filter(pk__in=wanted)
        .only("id", "kind", "number", "subject", "status", "category_id")
        .order_by("-id")
    )


# --- badges for the queue and the ticket page --------------------------------------------------------


@dataclass(frozen=True)
class ProblemBadge:
    """The problem an incident is linked to, as the queue and the ticket page show it."""

    reference: str
    id: int
    has_workaround: bool
    status: str
    status_label: str
    workaround: str = ""


def problems_for_tickets(ticket_ids: Sequence[int]) -> dict[int, ProblemBadge]:
    """ticket id -> the badge of its problem, for the tickets that have one (one query). Callers
    pass tickets the viewer may see; problems are seen by every agent."""
    ids = [int(t) for t in ticket_ids]
    if not ids:
        return {}
    rows = (
        ProblemIncident.objects.filter(ticket_id__in=ids)
        .select_related("problem")
        .only("ticket_id", "problem__id", "problem__number", "problem__status", "problem__workaround")
    )
    return {
        link.ticket_id: ProblemBadge(
            reference=link.problem.reference,
            id=link.problem.pk,
            has_workaround=link.problem.has_workaround,
            status=link.problem.status,
            status_label=str(Problem.Status(link.problem.status).label),
            workaround=link.problem.workaround,
        )
        for link in rows
    }


# --- what the requester of a linked incident reads on the portal --------------------------------

PUBLIC_COMMENTS = 5


@dataclass(frozen=True)
class PublicProblem:
    """The part of a problem the requester of one of its incidents reads on their request's page:
    that a known cause is being worked on, where it stands, and the problem's public comments. The
    root cause, the workaround and the internal comments stay with the desk (a workaround reaches
    the requester as a reply on their own request, when an agent applies it)."""

    reference: str
    status: str
    status_label: str
    resolved: bool
    comments: list[ProblemComment]


def public_problem_for(ticket: Ticket) -> PublicProblem | None:
    """For the portal's request page (its view has checked the reader may see ``ticket``): the
    problem the incident is linked to, if any, with its latest public comments; two queries."""
    link = ProblemIncident.objects.filter(ticket_id=ticket.pk).select_related("problem").first()
    if link is None:
        return None
    problem = link.problem
    comments = list(
        ProblemComment.objects.filter(problem_id=problem.pk, internal=False)
        .select_related("author")
        .order_by("-created_at", "-id")[:PUBLIC_COMMENTS]
    )
    comments.reverse()
    return PublicProblem(
        reference=problem.reference,
        status=problem.status,
        status_label=str(Problem.Status(problem.status).label),
        resolved=problem.status in (Problem.Status.RESOLVED, Problem.Status.CLOSED),
        comments=comments,
    )


def problem_settings() -> ProblemSettings:
    """The problem candidates' settings (one row)."""
    return ProblemSettings.current()


def group_usage(group_id: int) -> str:
    """Why the support group ``group_id`` cannot be deleted for the problems (``GROUP_IN_USE``)."""
    if Problem.objects.filter(group_id=group_id).exists():
        return _("Problems are assigned to this group: move them to another group first.")
    return ""
