"""Problems and known errors: records, incidents, comments, assets (docs/problems.md, "API")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

from palier.api.schemas.common import CategoryRef, GroupRef, Input, UserRef

ProblemStatus = Literal["new", "investigating", "root_cause_known", "known_error", "resolved", "closed"]
LevelName = Literal["high", "medium", "low"]


class ProblemOut(Schema):
    id: int
    reference: str = Field(description="PRB-<number>.")
    number: int
    title: str
    description: str
    category: CategoryRef | None
    impact: str
    urgency: str
    priority: int = Field(description="1 (highest) to 4, from impact × urgency.")
    status: ProblemStatus
    group: GroupRef | None
    assignee: UserRef | None = Field(description="The problem's owner.")
    root_cause: str
    workaround: str
    permanent_fix: str
    has_workaround: bool
    incident_count: int = Field(0, description="How many incidents are linked.")
    respond_by: datetime | None
    resolve_by: datetime | None
    created_at: datetime
    updated_at: datetime
    known_error_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int


class ProblemPage(Schema):
    items: list[ProblemOut]
    next_cursor: str | None


class _ProblemFields(Input):
    description: str | None = Field(None, max_length=20_000)
    category: int | None = None
    impact: LevelName | None = None
    urgency: LevelName | None = None
    group: int | None = None
    assignee: int | None = Field(None, description="The owner: an active agent's id.")
    root_cause: str | None = Field(None, max_length=20_000)
    workaround: str | None = Field(None, max_length=20_000)


class ProblemCreate(_ProblemFields):
    title: str = Field(max_length=250)
    incidents: list[int] = Field(
        default_factory=list, max_length=1000, description="Ids of incidents to link (all or nothing)."
    )
    assets: list[int] = Field(default_factory=list, max_length=200, description="Ids of affected assets or services.")
    articles: list[int] = Field(default_factory=list, max_length=50, description="Ids of knowledge-base articles.")


class ProblemPatch(_ProblemFields):
    title: str | None = Field(None, max_length=250)
    permanent_fix: str | None = Field(None, max_length=20_000)
    respond_by: datetime | None = Field(None, strict=False, description="ISO 8601 date and time.")
    resolve_by: datetime | None = Field(None, strict=False, description="ISO 8601 date and time.")
    version: int | None = Field(None, description="The version you saw; or send it as If-Match.")


class ProblemTransitionIn(Input):
    status: ProblemStatus
    version: int | None = Field(None, description="The version you saw; or send it as If-Match.")


class IdsIn(Input):
    ids: list[int] = Field(min_length=1, max_length=1000)


class IncidentOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    linked_at: datetime
    workaround_applied_at: datetime | None


class IncidentPage(Schema):
    items: list[IncidentOut]
    next_cursor: str | None


class LinkResultOut(Schema):
    linked: int = Field(description="How many incidents were newly linked.")
    already: int = Field(description="How many were already linked to this problem (nothing done).")


class ProblemCommentIn(Input):
    body: str = Field(max_length=20_000)
    internal: bool = Field(True, description="Internal (agents only) or public (shown with the incidents).")


class ProblemCommentOut(Schema):
    id: int
    body: str
    internal: bool
    author: UserRef | None
    created_at: datetime


class ProblemCommentPage(Schema):
    items: list[ProblemCommentOut]
    next_cursor: str | None
