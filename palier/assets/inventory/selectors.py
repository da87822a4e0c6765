"""Reads of the inventory administration pages (administrators only: the views check)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from palier.lib.errors import NotFound

from ..models import InventoryReport, InventoryToken, Location

PAGE_SIZE = 50
STATES = InventoryReport.State.choices


def tokens_for_admin() -> list[InventoryToken]:
    return list(
        InventoryToken.objects.select_related("organisation", "location", "owner_group").order_by("-created_at", "-id")[
            :500
        ]
    )


def tokens() -> QuerySet[InventoryToken]:
    """Every inventory token (the API's keyset list)."""
    return InventoryToken.objects.all()


def reports(*, state: str = "") -> QuerySet[InventoryReport]:
    """The reports without their bodies (the API's keyset list), of one state when given."""
    rows = InventoryReport.objects.defer("body")
    return rows.filter(state=state) if state else rows


def get_token_for_admin(token_id: int) -> InventoryToken:
    token = InventoryToken.objects.filter(pk=token_id).first()
    if token is None:
        raise NotFound("inventory token")
    return token


def locations() -> QuerySet[Location]:
    return Location.objects.order_by("path")


@dataclass
class ReportPage:
    rows: list[InventoryReport]
    next_before: int | None
    state: str


def report_page(*, state: str = "", before: int | None = None) -> ReportPage:
    """The most recent reports first (keyset by id), without their bodies."""
    query = InventoryReport.objects.select_related("token", "asset").defer("body")
    if state in InventoryReport.State.values:
        query = query.filter(state=state)
    else:
        state = ""
    if before is not None:
        query = query.filter(pk__lt=before)
    rows = list(query.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return ReportPage(rows=rows, next_before=rows[-1].pk if more else None, state=state)


def get_report_for_admin(report_id: int) -> InventoryReport:
    report = InventoryReport.objects.filter(pk=report_id).first()
    if report is None:
        raise NotFound("inventory report")
    return report
