"""People and reference data through the API: users (change, deactivate), organisations,
departments, support groups (with their members), categories (change, move, deactivate) and the
backups' status. ``GET /users`` (the agents' people search), ``POST /users``, ``GET`` and
``POST /organisations``, ``GET`` and ``POST /categories`` stay in ``palier/api/people.py`` and
``palier/api/categories.py``; the resources here give them the rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Schema

from palier.api import lookups
from palier.api.resources import PageQuery, Resource, values
from palier.api.schemas.common import Input, UserRef
from palier.api.schemas.people import GroupOut, LanguageName, OrganisationOut, RoleName, UserDetail
from palier.api.schemas.reference import CategoryOut
from palier.people import selectors, services
from palier.people.models import Department, Organisation, SupportGroup, User
from palier.tickets import selectors as ticket_selectors
from palier.tickets import services as ticket_services
from palier.tickets.models import Category

# --- departments ----------------------------------------------------------------------------------


class DepartmentOut(Schema):
    id: int
    organisation: int = Field(validation_alias="organisation_id")
    name: str


class DepartmentCreate(Input):
    organisation: int
    name: str = Field(max_length=200)


class DepartmentPatch(Input):
    name: str | None = Field(None, max_length=200)


class DepartmentQuery(PageQuery):
    organisation: int | None = None
    q: str | None = Field(None, max_length=200, description="Part of the name.")


def _create_department(user: User, data: dict[str, Any]) -> Department:
    data = values(data, {"organisation": lookups.organisation_by_id})
    return services.create_department(by=user, **data)


def _update_department(user: User, department: Department, data: dict[str, Any]) -> Department:
    return services.update_department(department, by=user, **data)


def _delete_department(user: User, department: Department) -> None:
    services.delete_department(department, by=user)


# --- users ----------------------------------------------------------------------------------------


class UserPatch(Input):
    full_name: str | None = Field(None, max_length=200)
    role: RoleName | None = None
    language: LanguageName | None = None
    phone: str | None = Field(None, max_length=50)
    organisation: int | None = None
    department: int | None = None
    groups: list[int] | None = Field(None, max_length=200, description="The exact list of support groups.")
    is_active: bool | None = Field(None, description="false deactivates: no sign-in, no token; history stays.")


NOT_NULL = ("full_name", "role", "language", "phone", "groups", "is_active")


def _not_null(data: dict[str, Any], names: tuple[str, ...]) -> None:
    nulls = [name for name in names if name in data and data[name] is None]
    if nulls:
        raise ValidationError({name: _("This field cannot be null.") for name in nulls})


def _update_user(user: User, person: User, data: dict[str, Any]) -> User:
    _not_null(data, NOT_NULL)
    data = values(data, {"organisation": lookups.organisation_by_id, "department": lookups.department_by_id})
    if data.get("groups") is not None:
        data["groups"] = [lookups.group_by_id(pk, field="groups") for pk in data["groups"]]
    return services.change_user(person, by=user, **data)


def _deactivate_user(user: User, person: User) -> None:
    services.set_user_active(person, active=False, by=user)


def _anyone(user: User) -> bool:
    return bool(user.is_active)


# --- organisations --------------------------------------------------------------------------------


class OrganisationPatch(Input):
    name: str | None = Field(None, max_length=200)
    email_domain: str | None = Field(None, max_length=200)
    share_tickets: bool | None = None


def _update_organisation(user: User, organisation: Organisation, data: dict[str, Any]) -> Organisation:
    _not_null(data, ("name", "email_domain", "share_tickets"))
    current: dict[str, Any] = {"name": organisation.name, "email_domain": organisation.email_domain}
    current["share_tickets"] = organisation.share_tickets
    return services.update_organisation(organisation, by=user, **{**current, **data})


# --- support groups -------------------------------------------------------------------------------


class GroupDetail(GroupOut):
    escalation_group: int | None = Field(validation_alias="escalation_group_id")
    assignment_strategy: str
    internal_target_minutes: int | None
    vendor_company: str
    vendor_contacts: str = Field(description="One address per line.")
    contract_reference: str
    contract_response_minutes: int | None
    contract_resolution_minutes: int | None


class GroupCreate(Input):
    name: str = Field(max_length=200)
    level: int = Field(1, ge=1, le=5)
    is_vendor: bool = False
    is_triage: bool = False
    email: str = Field("", max_length=254)
    manager: int | None = None
    members: list[int] = Field(default_factory=list, max_length=500)


class GroupPatch(Input):
    name: str | None = Field(None, max_length=200)
    level: int | None = Field(None, ge=1, le=5)
    is_vendor: bool | None = None
    email: str | None = Field(None, max_length=254)
    manager: int | None = None
    members: list[int] | None = Field(None, max_length=500, description="The exact member list.")
    escalation_group: int | None = None
    assignment_strategy: Literal["manual", "round_robin", "least_loaded", "skills"] | None = None
    internal_target_minutes: int | None = Field(None, ge=1)
    vendor_company: str | None = Field(None, max_length=200)
    vendor_contacts: str | None = Field(None, max_length=5000)
    contract_reference: str | None = Field(None, max_length=100)
    contract_response_minutes: int | None = Field(None, ge=1)
    contract_resolution_minutes: int | None = Field(None, ge=1)


class GroupQuery(PageQuery):
    level: int | None = Field(None, ge=1, le=5)
    is_vendor: bool | None = None
    q: str | None = Field(None, max_length=200, description="Part of the name.")


def _members(ids: list[int]) -> list[User]:
    return [lookups.user_by_id(pk, field="members") for pk in ids]


def _create_group(user: User, data: dict[str, Any]) -> SupportGroup:
    members = _members(data.pop("members", []))
    data = values(data, {"manager": lookups.user_by_id})
    group = services.create_group(by=user, **data)
    return services.set_group_members(group, members=members, by=user)


def _update_group(user: User, group: SupportGroup, data: dict[str, Any]) -> SupportGroup:
    _not_null(data, ("name", "level", "is_vendor", "email", "members", "assignment_strategy"))
    data = values(data, {"manager": lookups.user_by_id, "escalation_group": lookups.group_by_id})
    for name in ("vendor_company", "vendor_contacts", "contract_reference"):
        if name in data and data[name] is None:
            data[name] = ""
    if data.get("members") is not None:
        data["members"] = _members(data["members"])
    return services.change_group(group, by=user, **data)


def _delete_group(user: User, group: SupportGroup) -> None:
    services.delete_group(group, by=user)


def _agents(user: User) -> bool:
    return bool(user.is_active and user.is_agent)


class MemberOut(Schema):
    id: int = Field(description="The membership's id.")
    user: UserRef
    level: int = Field(description="The group's level: a membership carries none of its own.")
    joined_at: datetime

    @staticmethod
    def resolve_level(obj: Any) -> int:
        return int(obj.group.level)


# --- categories -----------------------------------------------------------------------------------


class CategoryPatch(Input):
    name_en: str | None = Field(None, max_length=120)
    name_fr: str | None = Field(None, max_length=120)
    parent: int | None = Field(None, description="Move it under this top-level category; null: top level.")
    position: int | None = Field(None, ge=0, le=32767)
    is_active: bool | None = Field(None, description="false: no longer offered (sub-categories too).")


def _update_category(user: User, category: Category, data: dict[str, Any]) -> Category:
    _not_null(data, ("name_en", "name_fr", "position", "is_active"))
    data = values(data, {"parent": lookups.category_by_id})
    return ticket_services.change_category(category, by=user, **data)


def _categories(user: User, filters: dict[str, Any]) -> Any:
    return ticket_selectors.all_categories()


# --- the resources --------------------------------------------------------------------------------

AGENTS_READ = cast(str, gettext_lazy("Only agents can read this; only administrators change it."))

RESOURCES = (
    Resource(
        name="department",
        path="/departments",
        tag="people",
        about="An organisation's departments. Deleting one refuses while people belong to it (409).",
        out=DepartmentOut,
        query=DepartmentQuery,
        create_in=DepartmentCreate,
        update_in=DepartmentPatch,
        listing=lambda user, filters: selectors.departments_for_api(filters),
        fetch=lambda user, pk: selectors.get_department(pk),
        create=_create_department,
        update=_update_department,
        delete=_delete_department,
    ),
    Resource(
        name="user",
        path="/users",
        tag="people",
        label="user",
        out=UserDetail,
        update_in=UserPatch,
        listing=lambda user, filters: selectors.users_matching(""),
        fetch=lambda user, pk: selectors.get_profile_for(user, pk),
        update=_update_user,
        delete=_deactivate_user,
        delete_verb="Deactivate",
        endpoints=("get", "update", "delete"),
        can_read=_anyone,
    ),
    Resource(
        name="organisation",
        path="/organisations",
        tag="people",
        out=OrganisationOut,
        update_in=OrganisationPatch,
        listing=lambda user, filters: selectors.organisations_by_name(),
        fetch=lambda user, pk: selectors.get_organisation_for_admin(pk),
        update=_update_organisation,
        endpoints=("get", "update"),
    ),
    Resource(
        name="group",
        path="/groups",
        tag="people",
        label="support group",
        about=(
            "Support groups by level (agents read them; administrators change them). Deleting a group "
            "refuses (409) while it owns tickets, a routing or automation rule or an SLA policy names it or "
            "another group escalates to it; then it is deleted (support groups have no inactive state)."
        ),
        out=GroupDetail,
        query=GroupQuery,
        create_in=GroupCreate,
        update_in=GroupPatch,
        order=("level", "name", "id"),
        listing=lambda user, filters: selectors.groups_for_api(filters),
        fetch=lambda user, pk: selectors.get_group_with_manager(pk),
        create=_create_group,
        update=_update_group,
        delete=_delete_group,
        can_read=_agents,
        forbidden=AGENTS_READ,
    ),
    Resource(
        name="category",
        path="/categories",
        tag="reference data",
        out=CategoryOut,
        update_in=CategoryPatch,
        listing=_categories,
        fetch=lambda user, pk: ticket_selectors.get_category_for_admin(pk),
        update=_update_category,
        endpoints=("get", "update"),
        can_read=_anyone,
    ),
)
