"""Change approvals, boards, the change calendar, freeze and maintenance windows
(docs/changes.md, "API")."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from ninja import Field, Schema

from palier.api.schemas.changes import ChangeKind, ChangeStatus, RiskName
from palier.api.schemas.common import Input, UserRef

Rule = Literal["any", "all", "quorum"]
StepState = Literal["waiting", "open", "approved", "rejected", "skipped"]
Decision = Literal["pending", "approved", "rejected", "not_needed"]


# --- approvals ------------------------------------------------------------------------------------


class ApprovalOut(Schema):
    id: int = Field(description="The approval's id: decide it with POST /approvals/changes/{id}/decision.")
    approver: UserRef
    decision: Decision
    comment: str
    via: str = Field(description="Where it was decided: page, link, api, …")
    asked_at: datetime
    decided_at: datetime | None
    on_behalf_of: UserRef | None = Field(description="The absent person a deputy decides for.")


class StageOut(Schema):
    order: int
    board: str = Field(description="The board's name.")
    rule: Rule
    quorum: int | None
    state: StepState
    approvals: list[ApprovalOut]


class ChangeBrief(Schema):
    id: int
    reference: str
    title: str
    kind: ChangeKind
    status: ChangeStatus
    risk: RiskName
    planned_start: datetime | None
    planned_end: datetime | None


class ChangeApprovalsOut(Schema):
    change: ChangeBrief
    stages: list[StageOut]


class PendingApprovalOut(Schema):
    id: int
    stage: int
    board: str
    rule: Rule
    quorum: int | None
    asked_at: datetime
    on_behalf_of: UserRef | None
    change: ChangeBrief


class PendingApprovalPage(Schema):
    items: list[PendingApprovalOut]
    next_cursor: str | None


class DecisionIn(Input):
    decision: Literal["approved", "rejected"]
    comment: str = Field("", max_length=2000, description="Required to reject: the requester reads it.")


class DecisionOut(Schema):
    approval: ApprovalOut
    change: ChangeBrief


class DelegationIn(Input):
    deputy: int = Field(description="An active agent's id.")
    starts_on: date = Field(strict=False, description="ISO 8601 date.")
    ends_on: date = Field(strict=False, description="Included; at most a year after the start.")


class DelegationOut(Schema):
    id: int
    deputy: UserRef
    starts_on: date
    ends_on: date


# --- boards ---------------------------------------------------------------------------------------


class BoardOut(Schema):
    id: int
    name: str
    group: int = Field(description="The support group whose active members sit on the board.")
    group_name: str
    members: int = Field(description="Active members.")
    rule: Rule
    quorum: int | None
    is_emergency: bool


class PathStageOut(Schema):
    order: int
    board: int
    board_name: str
    min_risk: RiskName = Field(description="The stage applies to changes at this risk or above.")


class BoardsOut(Schema):
    boards: list[BoardOut]
    normal: list[PathStageOut] = Field(description="The approval path of normal changes, in order.")
    emergency: list[PathStageOut] = Field(description="The approval path of emergency changes, in order.")


# --- calendar -------------------------------------------------------------------------------------


class Named(Schema):
    id: int | None
    name: str


class ConflictOut(Schema):
    kind: Literal["asset", "freeze", "maintenance"]
    change: int = Field(description="The change in conflict.")
    other_change: int | None = Field(description="asset: the other change touching the asset.")
    other_reference: str
    asset: Named | None = Field(description="asset: the asset both touch; maintenance: the service.")
    direct: bool = Field(description="asset: both name the asset themselves (false: through a dependency).")
    freeze: Named | None
    message: str


class CalendarChangeOut(Schema):
    id: int
    reference: str
    title: str
    kind: ChangeKind
    status: ChangeStatus
    risk: RiskName
    planned_start: datetime
    planned_end: datetime
    group: Named | None


class CalendarOut(Schema):
    start: datetime
    end: datetime
    changes: list[CalendarChangeOut]
    conflicts: list[ConflictOut]
    truncated: bool = Field(description="More changes are planned than returned: narrow the period or filters.")


# --- freeze and maintenance windows ---------------------------------------------------------------


class FreezeOut(Schema):
    id: int
    name: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    created_by: UserRef | None
    created_at: datetime


class FreezePage(Schema):
    items: list[FreezeOut]
    next_cursor: str | None


class FreezeIn(Input):
    name: str = Field(max_length=150)
    reason: str = Field("", max_length=5000)
    starts_at: datetime = Field(strict=False, description="ISO 8601 date and time.")
    ends_at: datetime = Field(strict=False, description="After the start; freezes never overlap.")


class FreezePatch(Input):
    name: str | None = Field(None, max_length=150)
    reason: str | None = Field(None, max_length=5000)
    starts_at: datetime | None = Field(None, strict=False)
    ends_at: datetime | None = Field(None, strict=False)


class MaintenanceWindowOut(Schema):
    id: int
    service: int
    weekday: int = Field(description="0 Monday … 6 Sunday.")
    start_time: time
    end_time: time
    time_zone: str = Field(description="Empty: the desk's time zone.")

    @staticmethod
    def resolve_service(obj: object) -> int:
        return int(getattr(obj, "service_id", 0))


class MaintenanceWindowIn(Input):
    weekday: int = Field(ge=0, le=6, description="0 Monday … 6 Sunday.")
    start_time: time = Field(strict=False, description="HH:MM.")
    end_time: time = Field(strict=False, description="After the start, the same day.")
    time_zone: str = Field("", max_length=64, description="A name like Europe/Paris; empty: the desk's.")
