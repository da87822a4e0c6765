from __future__ import annotations

from ninja import Schema
from pydantic import BaseModel, ConfigDict

from palier.people.models import User


class Input(BaseModel):
    """Base of every JSON body: unknown fields and wrong types are rejected, not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class UserRef(Schema):
    id: int
    name: str
    email: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return obj.display_name


class OrganisationRef(Schema):
    id: int
    name: str


class GroupRef(Schema):
    id: int
    name: str
    level: int


class CategoryRef(Schema):
    id: int
    name: str
