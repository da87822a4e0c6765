"""Time tracking through the API, across tickets: the time entries a person may read (an agent
their own, managers and administrators everyone's) and the administrators' cost rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.resources import PageQuery, Resource, page_schema, values
from palier.api.schemas.common import Input
from palier.api.timelog import TimeEntryOut
from palier.people.models import User
from palier.timelog import selectors, services
from palier.timelog.models import CostRate

router = Router()


# --- time entries ---------------------------------------------------------------------------------


class TimeEntryQuery(PageQuery):
    ticket: int | None = Field(None, description="A ticket's id.")
    user: int | None = Field(None, description="The author's id (managers and administrators).")
    since: date | None = Field(None, description="First day of the work included.")
    until: date | None = Field(None, description="Last day of the work included.")


@router.get(
    "/time-entries", response=page_schema(TimeEntryOut), tags=["time tracking"], operation_id="list_time_entries"
)
def list_time_entries(request: HttpRequest, query: Query[TimeEntryQuery]) -> dict[str, Any]:
    """Time logged across tickets, newest day first: an agent reads their own entries, managers and
    administrators everyone's, always on tickets they may see."""
    user = current_user(request)
    if not user.is_agent:
        raise Problem(403, _("Only agents see logged time."))
    filters = {k: v for k, v in query.model_dump(exclude={"cursor", "limit"}).items() if v is not None}
    entries = selectors.entries_for(user, filters)
    items, cursor = keyset_page(entries, order=("-work_date", "-id"), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


# --- cost rates -----------------------------------------------------------------------------------


class CostRateOut(Schema):
    id: int
    level: int | None
    agent: int | None = Field(validation_alias="agent_id")
    group: int | None = Field(validation_alias="group_id")
    hourly_rate: Decimal
    per_escalation: Decimal
    valid_from: date
    created_at: datetime


class CostRateCreate(Input):
    valid_from: date = Field(strict=False, description="YYYY-MM-DD: the price applies from this day on.")
    hourly_rate: Decimal = Field(strict=False, ge=0, max_digits=10, decimal_places=2)
    per_escalation: Decimal = Field(Decimal(0), strict=False, ge=0, max_digits=10, decimal_places=2)
    level: int | None = Field(None, ge=1, le=5)
    agent: int | None = None
    group: int | None = Field(None, description="A vendor group.")


class CostRateQuery(PageQuery):
    level: int | None = Field(None, ge=1, le=5)
    agent: int | None = None
    group: int | None = None


def _create_rate(user: User, data: dict[str, Any]) -> CostRate:
    data = values(data, {"agent": lookups.user_by_id, "group": lookups.group_by_id})
    return services.set_cost_rate(by=user, **data)


RESOURCES = (
    Resource(
        name="time_rate",
        path="/time-rates",
        tag="time tracking",
        label="cost rate",
        about=(
            "The price of an hour from a day on, for exactly one level, agent or vendor group (and a "
            "vendor group's cost per escalation). Earlier rates stay as history; a second rate for the "
            "same target and day replaces that day's."
        ),
        out=CostRateOut,
        query=CostRateQuery,
        create_in=CostRateCreate,
        order=("id",),
        listing=lambda user, filters: selectors.rates_for_api(filters),
        fetch=lambda user, pk: selectors.get_rate(pk),
        create=_create_rate,
        endpoints=("list", "get", "create"),
    ),
)
