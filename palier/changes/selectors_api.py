"""Reads on changes for the API (and any interface): what a user may see, filtered by status,
type, risk, group and window, with the related rows fetched up front (no N+1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from palier.changes import permissions
from palier.changes.models import (
    Change,
    ChangeAsset,
    ChangeEvent,
    ChangeProblem,
    ChangeTemplate,
    ChangeTicket,
    RiskQuestion,
)
from palier.lib.errors import NotFound
from palier.lib.text import normalise
from palier.people.models import User

LIST_RELATED = ("group", "implementer", "requested_by", "template")


@dataclass(frozen=True)
class ChangeFilters:
    status: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    risk: tuple[str, ...] = ()
    group: int | None = None
    window_from: datetime | None = None
    window_to: datetime | None = None
    q: str = ""


def changes_visible_to(user: User) -> QuerySet[Change]:
    return Change.objects.filter(permissions.visible(user))


def filtered(user: User, filters: ChangeFilters) -> QuerySet[Change]:
    """``window_from``/``window_to``: changes whose planned window overlaps that period."""
    qs = changes_visible_to(user).select_related(*LIST_RELATED)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.kind:
        qs = qs.filter(kind__in=filters.kind)
    if filters.risk:
        qs = qs.filter(risk__in=filters.risk)
    if filters.group is not None:
        qs = qs.filter(group_id=filters.group)
    if filters.window_from is not None:
        qs = qs.filter(planned_end__gt=filters.window_from)
    if filters.window_to is not None:
        qs = qs.filter(planned_start__lt=filters.window_to)
    for word in normalise(filters.q).split()[:8]:
        qs = qs.filter(search_text__contains=word)
    return qs


def get_change_for(user: User, pk: int | str) -> Change:
    """The change, or NotFound when it does not exist or ``user`` may not see it."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Change not found.")) from None
    change = changes_visible_to(user).select_related(*LIST_RELATED).filter(pk=key).first()
    if change is None:
        raise NotFound(_("Change not found."))
    return change


def asset_links_of(change: Change) -> QuerySet[ChangeAsset]:
    return ChangeAsset.objects.filter(change=change).select_related("asset")


def ticket_links_of(change: Change) -> QuerySet[ChangeTicket]:
    return ChangeTicket.objects.filter(change=change).select_related("ticket")


def problem_links_of(change: Change) -> QuerySet[ChangeProblem]:
    return ChangeProblem.objects.filter(change=change).select_related("problem")


def events_of(change: Change) -> QuerySet[ChangeEvent]:
    return ChangeEvent.objects.filter(change=change).select_related("actor")


def templates(*, active_only: bool = True) -> QuerySet[ChangeTemplate]:
    qs = ChangeTemplate.objects.select_related("group")
    return qs.filter(is_active=True) if active_only else qs


def find_template(pk: int) -> ChangeTemplate | None:
    return ChangeTemplate.objects.filter(pk=pk).first()


def risk_questions() -> QuerySet[RiskQuestion]:
    return RiskQuestion.objects.filter(is_active=True)
