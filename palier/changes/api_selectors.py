"""Reads of the API's change approvals, calendar, freeze and maintenance windows
(``palier/api/change_approvals.py``, ``palier/api/change_calendar.py``). Each is a bounded
number of queries, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from palier.catalog.models import Approval, ApprovalDelegation
from palier.changes.approvals import KIND
from palier.changes.calendar_selectors import MONTH_LIMIT, Filters, planned_in
from palier.changes.models import CHANGE_PREFIX, Change, FreezeWindow, MaintenanceWindow
from palier.people.models import User

# --- approvals ------------------------------------------------------------------------------------


def pending_change_approvals(user: User) -> QuerySet[Approval]:
    """The change approvals waiting for ``user``'s decision (a stage open now)."""
    return Approval.objects.filter(
        approver_id=user.pk,
        decision=Approval.Decision.PENDING,
        step__subject_kind=KIND,
        step__submission__isnull=True,
    ).select_related("step", "approver", "on_behalf_of")


def changes_by_id(ids: set[int]) -> dict[int, Change]:
    """The changes named, by id (one query)."""
    if not ids:
        return {}
    return {c.pk: c for c in Change.objects.filter(pk__in=ids)}


def approval_subject(approval: Approval) -> int:
    return int(approval.step.subject_id or 0)


# --- delegations ----------------------------------------------------------------------------------


def delegations_of(user: User) -> QuerySet[ApprovalDelegation]:
    """``user``'s delegations not yet over."""
    return ApprovalDelegation.objects.filter(user_id=user.pk, ends_on__gte=timezone.localdate()).select_related(
        "deputy"
    )


def get_delegation_of(user: User, delegation_id: int) -> ApprovalDelegation:
    """One of ``user``'s delegations; anyone else's answers 404."""
    found = ApprovalDelegation.objects.filter(pk=delegation_id, user_id=user.pk).select_related("deputy").first()
    if found is None:
        raise Http404("delegation")
    return found


# --- calendar -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarRow:
    """A change on the API's calendar (read as plain values: thousands in a period)."""

    id: int
    number: int
    title: str
    kind: str
    status: str
    risk: str
    planned_start: datetime
    planned_end: datetime
    group_id: int | None
    group_name: str

    @property
    def reference(self) -> str:
        return f"{CHANGE_PREFIX}-{self.number}"


def calendar(start: datetime, end: datetime, filters: Filters, *, limit: int = MONTH_LIMIT) -> list[CalendarRow]:
    """The changes whose window overlaps [start, end), in start order, at most ``limit`` (one query)."""
    rows = (
        planned_in(start, end, filters)
        .order_by("planned_start", "id")
        .values_list(
            "pk", "number", "title", "kind", "status", "risk", "planned_start", "planned_end", "group_id", "group__name"
        )[:limit]
    )
    return [
        CalendarRow(pk, number, title, kind, status, risk, s, e, group_id, group_name or "")
        for pk, number, title, kind, status, risk, s, e, group_id, group_name in rows
        if s is not None and e is not None
    ]


# --- freeze and maintenance windows ---------------------------------------------------------------


def freezes(start: datetime | None, end: datetime | None) -> QuerySet[FreezeWindow]:
    """The freezes overlapping [start, end); without a period, those not over yet."""
    rows = FreezeWindow.objects.select_related("created_by")
    rows = rows.filter(ends_at__gt=start if start is not None else timezone.now())
    if end is not None:
        rows = rows.filter(starts_at__lt=end)
    return rows


def get_freeze(freeze_id: int, *, lock: bool = False) -> FreezeWindow:
    """A freeze window (locked for a write when ``lock``); none answers 404."""
    rows = FreezeWindow.objects.select_related("created_by")
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = rows.filter(pk=freeze_id).first()
    if found is None:
        raise Http404("freeze")
    return found


def get_maintenance_window(window_id: int) -> MaintenanceWindow:
    found = MaintenanceWindow.objects.filter(pk=window_id).first()
    if found is None:
        raise Http404("maintenance window")
    return found


def maintenance_windows_of(service_id: int) -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.filter(service_id=service_id)
