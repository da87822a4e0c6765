"""Requests for change: records, risk, links, templates, questions (docs/changes.md, "API")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from palier.api.schemas.assets import AssetRef
from palier.api.schemas.common import GroupRef, Input, UserRef
from palier.catalog.models import pick
from palier.changes.models import ChangeTemplate, RiskQuestion

ChangeKind = Literal["standard", "normal", "emergency"]
ChangeStatus = Literal[
    "draft", "assessment", "awaiting_approval", "approved", "rejected", "scheduled", "implementing", "review", "closed"
]
Outcome = Literal["successful", "failed", "rolled_back", "cancelled"]
RiskName = Literal["low", "medium", "high", "critical"]
LevelName = Literal["high", "medium", "low"]


class TemplateRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: ChangeTemplate) -> str:
        return obj.name


class ChangeOut(Schema):
    id: int
    reference: str = Field(description="CHG-<number>.")
    number: int
    kind: ChangeKind
    template: TemplateRef | None
    title: str
    description: str
    reason: str
    impact: str
    risk: RiskName
    risk_score: int
    risk_answers: dict[str, str] = Field(description="Question id → answer value, as assessed.")
    implementation_plan: str
    backout_plan: str
    test_plan: str
    planned_start: datetime | None
    planned_end: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    group: GroupRef | None
    implementer: UserRef | None
    requested_by: UserRef | None
    status: ChangeStatus
    outcome: str = Field(description="Set when closed: successful, failed, rolled_back or cancelled.")
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    version: int


class ChangePage(Schema):
    items: list[ChangeOut]
    next_cursor: str | None


class _ChangeFields(Input):
    description: str | None = Field(None, max_length=20_000)
    reason: str | None = Field(None, max_length=20_000)
    impact: LevelName | None = None
    implementation_plan: str | None = Field(None, max_length=20_000)
    backout_plan: str | None = Field(None, max_length=20_000)
    test_plan: str | None = Field(None, max_length=20_000)
    planned_start: datetime | None = Field(None, strict=False, description="ISO 8601 date and time.")
    planned_end: datetime | None = Field(None, strict=False, description="ISO 8601; after the start.")
    group: int | None = None
    implementer: int | None = Field(None, description="An active agent's id.")


class ChangeCreate(_ChangeFields):
    kind: ChangeKind
    title: str = Field("", max_length=250, description="Required, except for a standard change (template's name).")
    template: int | None = Field(None, description="The pre-approved template of a standard change.")
    assets: list[int] = Field(default_factory=list, max_length=200, description="Ids of the assets touched.")


class ChangePatch(_ChangeFields):
    title: str | None = Field(None, max_length=250)
    version: int | None = Field(None, description="The version you saw; or send it as If-Match.")


class ChangeTransitionIn(Input):
    status: ChangeStatus
    outcome: Outcome | Literal[""] = Field("", description="Required when closing.")
    note: str = Field("", max_length=2000)
    version: int | None = Field(None, description="The version you saw; or send it as If-Match.")


class RiskIn(Input):
    answers: dict[str, str] = Field(description="Question id → chosen answer value, for every active question.")
    version: int | None = None


class AssetIdsIn(Input):
    ids: list[int] = Field(min_length=1, max_length=200)


class TicketLinkIn(Input):
    ticket: int
    relation: Literal["related", "caused"] = "related"


class ProblemLinkIn(Input):
    problem: int
    relation: Literal["fixes", "caused"] = "fixes"


class TicketLinkOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    relation: str


class ProblemLinkOut(Schema):
    id: int
    reference: str
    title: str
    status: str
    relation: str


class ChangeLinksOut(Schema):
    assets: list[AssetRef]
    tickets: list[TicketLinkOut]
    problems: list[ProblemLinkOut]


class TemplateOut(Schema):
    id: int
    name: str
    description: str
    implementation_plan: str
    backout_plan: str
    test_plan: str
    risk: RiskName
    group: GroupRef | None
    duration_minutes: int

    @staticmethod
    def resolve_name(obj: ChangeTemplate) -> str:
        return obj.name


class RiskChoiceOut(Schema):
    value: str
    label: str
    score: int


class RiskQuestionOut(Schema):
    id: int
    order: int
    text: str
    choices: list[RiskChoiceOut]

    @staticmethod
    def resolve_choices(obj: RiskQuestion) -> list[dict[str, Any]]:
        return [
            {
                "value": str(c.get("value", "")),
                "label": pick(c.get("fr", ""), c.get("en", "")),
                "score": int(c.get("score") or 0),
            }
            for c in obj.choices
        ]
