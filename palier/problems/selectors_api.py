"""Reads on problems for the API (and any interface): what a user may see, filtered, with the
related rows each page shows fetched up front (no N+1)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound
from palier.lib.text import normalise
from palier.people.models import User
from palier.problems import permissions
from palier.problems.models import Problem, ProblemAsset, ProblemComment, ProblemEvent, ProblemIncident

LIST_RELATED = ("category", "group", "assignee")


@dataclass(frozen=True)
class ProblemFilters:
    status: tuple[str, ...] = ()
    group: int | None = None
    category: int | None = None
    q: str = ""


def problems_visible_to(user: User) -> QuerySet[Problem]:
    return Problem.objects.filter(permissions.visible(user))


def filtered(user: User, filters: ProblemFilters) -> QuerySet[Problem]:
    qs = problems_visible_to(user).select_related(*LIST_RELATED)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.group is not None:
        qs = qs.filter(group_id=filters.group)
    if filters.category is not None:
        qs = qs.filter(category_id=filters.category)
    for word in normalise(filters.q).split()[:8]:
        qs = qs.filter(search_text__contains=word)
    return qs.annotate(incident_count=Count("incident_links"))


def get_problem_for(user: User, pk: int | str) -> Problem:
    """The problem, or NotFound when it does not exist or ``user`` may not see it."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Problem not found.")) from None
    problem = (
        problems_visible_to(user)
        .select_related(*LIST_RELATED)
        .annotate(incident_count=Count("incident_links"))
        .filter(pk=key)
        .first()
    )
    if problem is None:
        raise NotFound(_("Problem not found."))
    return problem


def find_problem_by_number(number: int) -> Problem | None:
    return Problem.objects.filter(number=number).first()


def incident_links_of(problem: Problem) -> QuerySet[ProblemIncident]:
    return ProblemIncident.objects.filter(problem=problem).select_related("ticket")


def comments_of(problem: Problem, *, internal: bool = True) -> QuerySet[ProblemComment]:
    qs = ProblemComment.objects.filter(problem=problem).select_related("author")
    return qs if internal else qs.filter(internal=False)


def asset_links_of(problem: Problem) -> QuerySet[ProblemAsset]:
    return ProblemAsset.objects.filter(problem=problem).select_related("asset")


def events_of(problem: Problem) -> QuerySet[ProblemEvent]:
    return ProblemEvent.objects.filter(problem=problem).select_related("actor")
