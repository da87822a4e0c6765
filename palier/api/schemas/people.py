from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import field_validator

from palier.api.schemas.common import GroupRef, Input, OrganisationRef, UserRef
from palier.people.models import User

RoleName = Literal["requester", "agent", "manager", "admin"]
LanguageName = Literal["", "fr", "en"]


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    name: str
    role: str
    language: str
    phone: str
    organisation: OrganisationRef | None
    department: int | None = Field(alias="department_id")
    is_active: bool

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name


class UserDetail(UserOut):
    groups: list[GroupRef]

    @staticmethod
    def resolve_groups(obj: User) -> list[object]:
        return list(obj.support_groups.all())


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class MePatch(Input):
    full_name: str | None = Field(None, max_length=200)
    language: LanguageName | None = None
    phone: str | None = Field(None, max_length=50)

    @field_validator("full_name", "language", "phone", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError(_("This field cannot be null."))
        return value


class UserCreate(Input):
    email: str = Field(max_length=254)
    full_name: str = Field("", max_length=200)
    role: RoleName = "requester"
    password: str | None = Field(None, max_length=200)
    language: LanguageName = ""
    phone: str = Field("", max_length=50)
    organisation: int | None = None
    department: int | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Kept to the minute.")
    last_used_ip: str | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    secret: str = Field(description="Shown once: store it now, Palier keeps only its hash.")


class TokenCreate(Input):
    name: str = Field("", max_length=100)
    scope: Literal["read", "write", "tokens"] = Field("read", description="tokens: read, write and create tokens.")
    days: int | None = Field(None, ge=1, le=3650, description="Days before it expires; default: the desk's setting.")


class OrganisationOut(Schema):
    id: int
    name: str
    email_domain: str
    share_tickets: bool


class OrganisationPage(Schema):
    items: list[OrganisationOut]
    next_cursor: str | None


class OrganisationCreate(Input):
    name: str = Field(max_length=200)
    email_domain: str = Field("", max_length=200)
    share_tickets: bool = False


class GroupOut(Schema):
    id: int
    name: str
    level: int
    is_vendor: bool
    is_triage: bool
    email: str
    manager: UserRef | None


class GroupPage(Schema):
    items: list[GroupOut]
    next_cursor: str | None


class GroupCreate(Input):
    name: str = Field(max_length=200)
    level: int = Field(1, ge=1, le=5)
    is_vendor: bool = False
    is_triage: bool = False
    email: str = Field("", max_length=254)
    manager: int | None = None


class MemberIn(Input):
    user: int
