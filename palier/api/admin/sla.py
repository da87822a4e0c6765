"""SLAs through the API: business calendars, their custom closed days (holidays) and the SLA
policies. Every change goes through the SLA services the pages use, and drops the cached
policies of every process (``core.cache.VersionedCache``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from palier.api import lookups
from palier.api.resources import PageQuery, Resource, values
from palier.api.schemas.common import Input
from palier.people.models import User
from palier.sla import selectors, services
from palier.sla.models import Calendar, CalendarHoliday, SlaPolicy

# --- calendars ------------------------------------------------------------------------------------

HOURS_HELP = 'Weekday ("0" is Monday) -> list of ["HH:MM", "HH:MM"] intervals; a missing day is closed.'


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    always_open: bool
    hours: dict[str, list[list[str]]] = Field(description=HOURS_HELP)
    holiday_country: str
    holiday_subdivision: str
    is_default: bool
    updated_at: dt.datetime


class CalendarCreate(Input):
    name: str = Field(max_length=120)
    time_zone: str = Field("Europe/Paris", max_length=64)
    always_open: bool = False
    hours: dict[str, list[list[str]]] = Field(default_factory=dict, description=HOURS_HELP)
    holiday_country: str = Field("", max_length=8)
    holiday_subdivision: str = Field("", max_length=40)
    is_default: bool = False


class CalendarPatch(Input):
    name: str | None = Field(None, max_length=120)
    time_zone: str | None = Field(None, max_length=64)
    always_open: bool | None = None
    hours: dict[str, list[list[str]]] | None = Field(None, description=HOURS_HELP)
    holiday_country: str | None = Field(None, max_length=8)
    holiday_subdivision: str | None = Field(None, max_length=40)
    is_default: bool | None = None


class CalendarQuery(PageQuery):
    is_default: bool | None = None


def _no_nulls(data: dict[str, Any]) -> dict[str, Any]:
    """Fields sent as null keep their value (none of these may be empty)."""
    return {name: value for name, value in data.items() if value is not None}


def _create_calendar(user: User, data: dict[str, Any]) -> Calendar:
    return services.create_calendar(by=user, **data)


def _update_calendar(user: User, calendar: Calendar, data: dict[str, Any]) -> Calendar:
    return services.change_calendar(calendar, by=user, **_no_nulls(data))


# --- holidays -------------------------------------------------------------------------------------


class HolidayOut(Schema):
    id: int
    calendar: int = Field(validation_alias="calendar_id")
    date: dt.date
    label: str


class HolidayCreate(Input):
    calendar: int
    date: dt.date = Field(strict=False, description="YYYY-MM-DD")
    label: str = Field("", max_length=120)


class HolidayQuery(PageQuery):
    calendar: int | None = None
    since: dt.date | None = Field(None, description="Only days from this one on.")


def _calendar_by_id(pk: int, *, field: str = "calendar") -> Calendar:
    return lookups.required(selectors.find_calendar(pk), field)


def _create_holiday(user: User, data: dict[str, Any]) -> CalendarHoliday:
    data = values(data, {"calendar": _calendar_by_id})
    return services.add_holiday(by=user, calendar=data["calendar"], day=data["date"], label=data.get("label", ""))


def _delete_holiday(user: User, holiday: CalendarHoliday) -> None:
    services.delete_holiday(holiday, by=user)


# --- policies -------------------------------------------------------------------------------------

ACTIONS_HELP = (
    'A list of {"action": "notify_assignee" | "notify_group" | "notify_manager" | "raise_priority" | '
    '"escalate_group" (with "group": id) | "escalate_level" (with "level": 1-5)}.'
)
Kind = Literal["incident", "request"]


class PolicyOut(Schema):
    id: int
    name: str
    position: int = Field(description="Lower comes first; the first matching active policy applies.")
    is_active: bool
    priorities: list[int]
    kinds: list[str]
    criticalities: list[str]
    categories: list[int]
    organisations: list[int]
    calendar: int = Field(validation_alias="calendar_id")
    first_response_minutes: int
    next_response_minutes: int | None
    resolution_minutes: int
    pause_statuses: list[str]
    warn_percent: int
    warning_actions: list[dict[str, Any]] = Field(description=ACTIONS_HELP)
    breach_actions: list[dict[str, Any]] = Field(description=ACTIONS_HELP)

    @staticmethod
    def resolve_categories(obj: SlaPolicy) -> list[int]:
        return [c.pk for c in obj.categories.all()]

    @staticmethod
    def resolve_organisations(obj: SlaPolicy) -> list[int]:
        return [o.pk for o in obj.organisations.all()]


class _PolicyFields(Input):
    position: int | None = Field(None, ge=0, le=1_000_000)
    is_active: bool | None = None
    priorities: list[int] | None = Field(None, max_length=4)
    kinds: list[Kind] | None = Field(None, max_length=2)
    criticalities: list[str] | None = Field(None, max_length=10)
    categories: list[int] | None = Field(None, max_length=500)
    organisations: list[int] | None = Field(None, max_length=500)
    next_response_minutes: int | None = None
    pause_statuses: list[str] | None = Field(None, max_length=10)
    warn_percent: int | None = None
    warning_actions: list[dict[str, Any]] | None = Field(None, max_length=20, description=ACTIONS_HELP)
    breach_actions: list[dict[str, Any]] | None = Field(None, max_length=20, description=ACTIONS_HELP)


class PolicyCreate(_PolicyFields):
    name: str = Field(max_length=120)
    calendar: int
    first_response_minutes: int
    resolution_minutes: int


class PolicyPatch(_PolicyFields):
    name: str | None = Field(None, max_length=120)
    calendar: int | None = None
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None


class PolicyQuery(PageQuery):
    is_active: bool | None = None
    calendar: int | None = None


def _policy_fields(data: dict[str, Any]) -> dict[str, Any]:
    keep_null = {"next_response_minutes": data.get("next_response_minutes")} if "next_response_minutes" in data else {}
    data = {**_no_nulls(data), **keep_null}
    data = values(data, {"calendar": _calendar_by_id})
    if "categories" in data:
        data["categories"] = [lookups.category_by_id(pk, field="categories") for pk in data["categories"]]
    if "organisations" in data:
        data["organisations"] = [lookups.organisation_by_id(pk, field="organisations") for pk in data["organisations"]]
    return data


def _create_policy(user: User, data: dict[str, Any]) -> SlaPolicy:
    return services.create_policy(by=user, **_policy_fields(data))


def _update_policy(user: User, policy: SlaPolicy, data: dict[str, Any]) -> SlaPolicy:
    return services.change_policy(policy, by=user, **_policy_fields(data))


RESOURCES = (
    Resource(
        name="sla_calendar",
        path="/sla-calendars",
        tag="SLAs",
        label="SLA calendar",
        about=(
            "Business calendars of the SLA policies: time zone, weekly hours, public holidays of a "
            "country; their custom closed days are /holidays."
        ),
        out=CalendarOut,
        query=CalendarQuery,
        create_in=CalendarCreate,
        update_in=CalendarPatch,
        order=("name", "id"),
        listing=lambda user, filters: selectors.calendars_for_api(filters),
        fetch=lambda user, pk: selectors.get_calendar_for_admin(pk),
        create=_create_calendar,
        update=_update_calendar,
    ),
    Resource(
        name="holiday",
        path="/holidays",
        tag="SLAs",
        about="A business calendar's custom closed days (public holidays come from its country).",
        out=HolidayOut,
        query=HolidayQuery,
        create_in=HolidayCreate,
        order=("date", "id"),
        listing=lambda user, filters: selectors.holidays_for_api(filters),
        fetch=lambda user, pk: selectors.get_holiday(pk),
        create=_create_holiday,
        delete=_delete_holiday,
    ),
    Resource(
        name="sla_policy",
        path="/sla-policies",
        tag="SLAs",
        label="SLA policy",
        about=(
            "Response and resolution targets, in business minutes of a calendar, for the tickets a "
            "policy matches; the first active matching policy (by position) applies to new tickets."
        ),
        out=PolicyOut,
        query=PolicyQuery,
        create_in=PolicyCreate,
        update_in=PolicyPatch,
        order=("position", "id"),
        listing=lambda user, filters: selectors.policies_for_api(filters),
        fetch=lambda user, pk: selectors.get_policy_for_admin(pk),
        create=_create_policy,
        update=_update_policy,
    ),
)
