"""What agents manage for themselves through the API: macros (their own personal ones; shared ones
are the administrators', as on the macros page: ``palier/macros/permissions.py``) and saved views
(the queue's saved filters, each agent's own). Not administration only: every active agent."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext_lazy
from ninja import Field, Schema

from palier.api import lookups
from palier.api.resources import PageQuery, Resource, values
from palier.api.schemas.common import Input
from palier.macros import selectors as macro_selectors
from palier.macros import services as macro_services
from palier.macros.models import Macro
from palier.people.models import User
from palier.tickets import selectors as ticket_selectors
from palier.tickets import services as ticket_services


def agents(user: User) -> bool:
    return bool(user.is_active and user.is_agent)


# --- macros ---------------------------------------------------------------------------------------------

Visibility = Literal["personal", "group", "everyone"]
TargetStatus = Literal["", "in_progress", "pending_requester", "pending_vendor", "pending_change", "resolved", "closed"]
LevelOrNone = Literal["", "low", "medium", "high"]


class MacroOut(Schema):
    id: int
    name: str
    body_fr: str
    body_en: str
    visibility: str
    owner: int | None = Field(validation_alias="owner_id")
    group: int | None = Field(validation_alias="group_id")
    set_status: str
    set_impact: str
    set_urgency: str
    set_group: int | None = Field(validation_alias="set_group_id")
    set_assignee: int | None = Field(validation_alias="set_assignee_id")
    add_tags: list[str]
    is_active: bool
    usage_count: int
    created_at: datetime
    updated_at: datetime


class MacroIn(Input):
    name: str = Field(max_length=200)
    body_fr: str = Field("", max_length=20_000)
    body_en: str = Field("", max_length=20_000)
    visibility: Visibility = "personal"
    group: int | None = Field(None, description="For visibility “group”: the group that shares it.")
    set_status: TargetStatus = ""
    set_impact: LevelOrNone = ""
    set_urgency: LevelOrNone = ""
    set_group: int | None = None
    set_assignee: int | None = None
    add_tags: list[str] = Field(default_factory=list, max_length=50)
    is_active: bool = True


class MacroPatch(Input):
    name: str | None = Field(None, max_length=200)
    body_fr: str | None = Field(None, max_length=20_000)
    body_en: str | None = Field(None, max_length=20_000)
    visibility: Visibility | None = None
    group: int | None = None
    set_status: TargetStatus | None = None
    set_impact: LevelOrNone | None = None
    set_urgency: LevelOrNone | None = None
    set_group: int | None = None
    set_assignee: int | None = None
    add_tags: list[str] | None = Field(None, max_length=50)
    is_active: bool | None = None


class MacroQuery(PageQuery):
    usable: bool | None = Field(
        None, description="true: the macros you may use in a reply; otherwise those you may edit (admins: every one)."
    )
    q: str | None = Field(None, max_length=200, description="Part of the name.")


MACRO_FIELDS = (
    "name", "body_fr", "body_en", "visibility", "group", "set_status", "set_impact", "set_urgency", "set_group",
    "set_assignee", "add_tags", "is_active",
)  # fmt: skip
NULLABLE = ("group", "set_group", "set_assignee")


def _macro_fields(data: dict[str, Any], macro: Macro | None = None) -> macro_services.MacroFields:
    data = {name: value for name, value in data.items() if value is not None or name in NULLABLE}
    data = values(
        data,
        {
            "group": lookups.group_by_id,
            "set_group": lambda pk, field: lookups.group_by_id(pk, field=field),
            "set_assignee": lambda pk, field: lookups.user_by_id(pk, field=field),
        },
    )
    if macro is not None:
        data = {name: getattr(macro, name) for name in MACRO_FIELDS} | data
    return macro_services.MacroFields(**data)


def _macros(user: User, filters: dict[str, Any]) -> Any:
    query = filters.get("q") or ""
    if not filters.get("usable"):
        return macro_selectors.macros_managed_by(user, query=query)
    rows = macro_selectors.macros_usable_by(user)
    return rows.filter(name__icontains=query.strip()) if query.strip() else rows


MACRO = Resource(
    name="macro",
    path="/macros",
    tag="macros",
    about="Canned replies in French and English with the field changes they apply. Agents create and edit "
    "their personal macros; administrators share macros with a group or everyone and manage every one.",
    out=MacroOut,
    query=MacroQuery,
    order=("name", "id"),
    listing=_macros,
    fetch=macro_selectors.get_macro_visible_to,
    create_in=MacroIn,
    update_in=MacroPatch,
    create=lambda user, data: macro_services.create_macro(by=user, fields=_macro_fields(data)),
    update=lambda user, macro, data: macro_services.update_macro(macro, by=user, fields=_macro_fields(data, macro)),
    delete=lambda user, macro: macro_services.delete_macro(macro, by=user),
    can_read=agents,
    can_write=agents,
    forbidden=gettext_lazy("Only agents use macros."),
)


# --- saved views --------------------------------------------------------------------------------------------


class SavedViewOut(Schema):
    id: int
    name: str
    query: str = Field(description="The queue's query string, e.g. “status=new&group=3”.")
    position: int
    created_at: datetime


class SavedViewIn(Input):
    name: str = Field(max_length=80)
    query: str = Field("", max_length=1000)


class SavedViewPatch(Input):
    name: str | None = Field(None, max_length=80)
    query: str | None = Field(None, max_length=1000)


SAVED_VIEW = Resource(
    name="saved_view",
    path="/saved-views",
    tag="tickets",
    label="saved view",
    about="Your own saved queue views (at most 30). Creating one with the name of an existing one replaces "
    "its query, as in the queue. Nobody sees another agent's views.",
    out=SavedViewOut,
    order=("position", "id"),
    listing=lambda user, filters: ticket_selectors.saved_filter_rows(user),
    fetch=ticket_selectors.get_saved_filter_for,
    create_in=SavedViewIn,
    update_in=SavedViewPatch,
    create=lambda user, data: ticket_services.save_filter(user=user, **data),
    update=lambda user, saved, data: ticket_services.update_filter(saved, by=user, **data),
    delete=lambda user, saved: ticket_services.delete_filter(saved, by=user),
    can_read=agents,
    can_write=agents,
    forbidden=gettext_lazy("Only agents have saved views."),
)

RESOURCES = (MACRO, SAVED_VIEW)
