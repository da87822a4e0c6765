"""Routing through the API: the routing rules (tried in order; ``PUT /routing-rules/order``), the
default escalation group of each category and level, and the agents' availability and absences
(an agent manages their own, a manager their groups' members, an administrator everyone's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.resources import PageQuery, Resource, values
from palier.api.schemas.common import Input
from palier.people.models import User
from palier.routing import selectors, services
from palier.routing.models import Absence, CategoryLevelDefault, RoutingRule

router = Router()

KindName = Literal["", "incident", "request"]


# --- routing rules --------------------------------------------------------------------------------


class RoutingRuleOut(Schema):
    id: int
    name: str
    position: int = Field(description="0 is tried first.")
    is_active: bool
    kind: str
    category: int | None = Field(validation_alias="category_id")
    channel: str
    organisation: int | None = Field(validation_alias="organisation_id")
    department: int | None = Field(validation_alias="department_id")
    priority: int | None
    words: str
    mailbox: str
    group: int | None = Field(validation_alias="group_id")
    set_category: int | None = Field(validation_alias="set_category_id")
    set_priority: int | None
    add_tags: str
    asset_type: str
    asset_status: str
    asset_location: str
    business_service: str


class _RuleFields(Input):
    is_active: bool | None = None
    kind: KindName | None = None
    category: int | None = None
    channel: str | None = Field(None, max_length=16)
    organisation: int | None = None
    department: int | None = None
    priority: int | None = Field(None, ge=1, le=4)
    words: str | None = Field(None, max_length=5000)
    mailbox: str | None = Field(None, max_length=254)
    set_category: int | None = None
    set_priority: int | None = Field(None, ge=1, le=4)
    add_tags: str | None = Field(None, max_length=500)
    asset_type: str | None = Field(None, max_length=60)
    asset_status: str | None = Field(None, max_length=10)
    asset_location: str | None = Field(None, max_length=600)
    business_service: str | None = Field(None, max_length=200)


class RoutingRuleCreate(_RuleFields):
    name: str = Field(max_length=120)
    group: int


class RoutingRulePatch(_RuleFields):
    name: str | None = Field(None, max_length=120)
    group: int | None = None


class RoutingRuleQuery(PageQuery):
    is_active: bool | None = None
    group: int | None = None


TEXTS = (
    "kind",
    "channel",
    "words",
    "mailbox",
    "add_tags",
    "asset_type",
    "asset_status",
    "asset_location",
    "business_service",
)


def _rule_fields(data: dict[str, Any]) -> dict[str, Any]:
    for name in TEXTS:  # null clears a text condition
        if name in data and data[name] is None:
            data[name] = ""
    if "is_active" in data and data["is_active"] is None:
        raise ValidationError({"is_active": _("This field cannot be null.")})
    return values(
        data,
        {
            "category": lookups.category_by_id,
            "set_category": lookups.category_by_id,
            "organisation": lookups.organisation_by_id,
            "department": lookups.department_by_id,
            "group": lookups.group_by_id,
        },
    )


def _create_rule(user: User, data: dict[str, Any]) -> RoutingRule:
    data = _rule_fields({k: v for k, v in data.items() if v is not None})
    return services.create_rule(by=user, **data)


def _update_rule(user: User, rule: RoutingRule, data: dict[str, Any]) -> RoutingRule:
    return services.update_rule(rule, by=user, **_rule_fields(data))


def _delete_rule(user: User, rule: RoutingRule) -> None:
    services.delete_rule(rule, by=user)


class OrderIn(Input):
    ids: list[int] = Field(max_length=10000, description="Every rule's id once, in the new order.")


@router.put("/routing-rules/order", response=list[RoutingRuleOut], tags=["routing"], operation_id="order_routing_rules")
def order_routing_rules(request: HttpRequest, payload: OrderIn) -> list[RoutingRule]:
    """Put the routing rules in a new order: the full list of ids, first tried first. A list with a
    gap, a duplicate, an unknown or a missing id answers 422 and changes nothing."""
    user = current_user(request)
    if not user.is_admin:
        raise Problem(403, _("Only administrators may manage this through the API."))
    return services.reorder_rules(by=user, ids=payload.ids)


# --- category defaults ----------------------------------------------------------------------------


class CategoryDefaultOut(Schema):
    id: int
    category: int = Field(validation_alias="category_id")
    level: int
    group: int = Field(validation_alias="group_id")


class CategoryDefaultCreate(Input):
    category: int
    level: int = Field(ge=1, le=5)
    group: int


class CategoryDefaultQuery(PageQuery):
    category: int | None = None
    level: int | None = Field(None, ge=1, le=5)


def _create_default(user: User, data: dict[str, Any]) -> CategoryLevelDefault:
    data = values(data, {"category": lookups.category_by_id, "group": lookups.group_by_id})
    return services.set_category_level_default(by=user, **data)


def _delete_default(user: User, default: CategoryLevelDefault) -> None:
    services.delete_category_level_default(default, by=user)


# --- availability ---------------------------------------------------------------------------------


class AvailabilityOut(Schema):
    is_available: bool = Field(description="false: automatic assignment skips this agent.")
    working_hours: list[list[list[str]]] = Field(
        description='[] (always), or 7 lists of ["HH:MM", "HH:MM"] intervals, Monday first.'
    )
    time_zone: str = Field(validation_alias="work_time_zone")
    max_open_tickets: int | None


class AvailabilityIn(Input):
    is_available: bool
    working_hours: list[list[list[str]]] = Field(default_factory=list, max_length=7)
    time_zone: str = Field("", max_length=64)
    max_open_tickets: int | None = Field(None, ge=1)


def _agent_for(request: HttpRequest, user_id: int) -> tuple[User, User]:
    user = current_user(request)
    if not user.is_agent:
        raise Problem(403, _("Only agents take tickets."))
    return user, selectors.get_team_member_for(user, user_id)


@router.get("/users/{int:user_id}/availability", response=AvailabilityOut, tags=["routing"])
def get_availability(request: HttpRequest, user_id: int) -> User:
    """An agent's availability, weekly hours and cap: yours, your groups' members' (managers), or
    anyone's (administrators); anyone else is 404."""
    return _agent_for(request, user_id)[1]


@router.put("/users/{int:user_id}/availability", response=AvailabilityOut, tags=["routing"])
def set_availability(request: HttpRequest, user_id: int, payload: AvailabilityIn) -> User:
    """Replace an agent's availability, weekly hours, time zone and open-ticket cap."""
    user, agent = _agent_for(request, user_id)
    services.set_availability(agent, payload.is_available, by=user)
    return services.set_working_hours(
        agent,
        by=user,
        hours=payload.working_hours,
        time_zone=payload.time_zone,
        max_open_tickets=payload.max_open_tickets,
    )


# --- absences -------------------------------------------------------------------------------------


class AbsenceOut(Schema):
    id: int
    agent: int = Field(validation_alias="agent_id")
    start: datetime
    end: datetime
    reason: str
    created_at: datetime


class AbsenceCreate(Input):
    agent: int
    start: datetime = Field(strict=False)
    end: datetime = Field(strict=False)
    reason: str = Field("", max_length=200)


class AbsenceQuery(PageQuery):
    agent: int | None = None
    current: bool | None = Field(None, description="true: absences not over yet.")


def _create_absence(user: User, data: dict[str, Any]) -> Absence:
    agent = selectors.get_team_member_for(user, data.pop("agent"))
    return services.add_absence(agent, by=user, **data)


def _delete_absence(user: User, absence: Absence) -> None:
    services.remove_absence(absence, by=user)


def _agents(user: User) -> bool:
    return bool(user.is_active and user.is_agent)


AGENTS_ONLY = gettext_lazy(
    "Only agents have absences: their own, their team's (managers), or anyone's (administrators)."
)


RESOURCES = (
    Resource(
        name="routing_rule",
        path="/routing-rules",
        tag="routing",
        about=(
            "Where new tickets go: rules are tried by position, the first active match wins. "
            "Reorder with PUT /routing-rules/order."
        ),
        out=RoutingRuleOut,
        query=RoutingRuleQuery,
        create_in=RoutingRuleCreate,
        update_in=RoutingRulePatch,
        order=("position", "id"),
        listing=lambda user, filters: selectors.rules_for_api(filters),
        fetch=lambda user, pk: selectors.get_rule_for_admin(pk),
        create=_create_rule,
        update=_update_rule,
        delete=_delete_rule,
    ),
    Resource(
        name="category_default",
        path="/category-defaults",
        tag="routing",
        label="category default",
        about=(
            "The group that receives escalations to a level for a category (and its subcategories). "
            "Creating one for a category and level that have one replaces its group."
        ),
        out=CategoryDefaultOut,
        query=CategoryDefaultQuery,
        create_in=CategoryDefaultCreate,
        listing=lambda user, filters: selectors.category_defaults_for_api(filters),
        fetch=lambda user, pk: selectors.get_category_default_for_admin(pk),
        create=_create_default,
        delete=_delete_default,
    ),
    Resource(
        name="absence",
        path="/absences",
        tag="routing",
        about=(
            "Agents' absences: an agent manages their own, a manager their groups' members', an "
            "administrator everyone's. Automatic assignment skips an absent agent."
        ),
        out=AbsenceOut,
        query=AbsenceQuery,
        create_in=AbsenceCreate,
        order=("-start", "-id"),
        listing=lambda user, filters: selectors.absences_for(user, filters),
        fetch=lambda user, pk: selectors.get_absence_for(user, pk),
        create=_create_absence,
        delete=_delete_absence,
        endpoints=("list", "get", "create", "delete"),
        can_read=_agents,
        can_write=_agents,
        forbidden=cast(str, AGENTS_ONLY),
    ),
)
