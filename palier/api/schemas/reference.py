from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from palier.api.schemas.common import Input

LevelName = Literal["high", "medium", "low"]


class CategoryOut(Schema):
    id: int
    parent: int | None = Field(alias="parent_id")
    slug: str
    name: str
    name_en: str
    name_fr: str
    position: int
    is_active: bool


class CategoryCreate(Input):
    slug: str = Field(max_length=80, pattern=r"^[a-z0-9-]+$")
    name_en: str = Field(max_length=120)
    name_fr: str = Field(max_length=120)
    parent: int | None = None


class PriorityCell(Input):
    impact: LevelName
    urgency: LevelName
    priority: int = Field(ge=1, le=4)


class PriorityMatrixIn(Input):
    cells: list[PriorityCell] = Field(min_length=1, max_length=9)
