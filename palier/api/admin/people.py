"""People administration through the API: departments (organisations, groups and users have
their own endpoints in ``palier/api/people.py``)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from palier.api import lookups
from palier.api.resources import PageQuery, Resource, values
from palier.api.schemas.common import Input
from palier.people import selectors, services
from palier.people.models import Department, User


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
)
