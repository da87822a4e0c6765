"""Change and problem administration through the API: the change boards and the approval paths,
standard change templates, the risk questionnaire and thresholds, the problem candidates'
settings (docs/changes.md and docs/problems.md, "API"). The older read endpoints
(``GET /change-boards``, ``GET /changes/templates``, ``GET /changes/risk-questions``) stay as
they were; the writes and each object's own address are mounted on the same routers, so one path
keeps one view."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from palier.api import change_approvals, lookups
from palier.api import changes as changes_api
from palier.api import problems as problems_api
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.resources import PageQuery, Resource, mount, values
from palier.api.schemas.common import Input
from palier.changes import board_selectors
from palier.changes import selectors as change_selectors
from palier.changes.models import ChangeBoard, ChangeTemplate, RiskQuestion
from palier.changes.services import admin as change_admin
from palier.changes.services import boards
from palier.people.models import User
from palier.problems import permissions as problem_permissions
from palier.problems import selectors as problem_selectors
from palier.problems.services import known_errors

RiskLevel = Literal["low", "medium", "high", "critical"]


def _merged(obj: Any, fields: tuple[str, ...], data: dict[str, Any]) -> dict[str, Any]:
    """The object's current values overlaid with the fields sent (the services take them all)."""
    return {name: getattr(obj, name) for name in fields} | data


# --- boards ------------------------------------------------------------------------------------------


class BoardOut(Schema):
    id: int
    name: str
    group: int = Field(validation_alias="group_id")
    rule: str
    quorum: int | None
    is_emergency: bool


class BoardIn(Input):
    name: str = Field(max_length=120)
    group: int
    rule: Literal["any", "all", "quorum"] = "any"
    quorum: int | None = Field(None, ge=1, le=1000)
    is_emergency: bool = False


class BoardPatch(Input):
    name: str | None = Field(None, max_length=120)
    group: int | None = None
    rule: Literal["any", "all", "quorum"] | None = None
    quorum: int | None = Field(None, ge=1, le=1000)
    is_emergency: bool | None = None


BOARD_FIELDS = ("name", "group", "rule", "quorum", "is_emergency")


def _save_board(user: User, data: dict[str, Any], board: ChangeBoard | None = None) -> ChangeBoard:
    data = values(data, {"group": lookups.group_by_id})
    if board is not None:
        data = _merged(board, BOARD_FIELDS, data)
    return boards.save_board(by=user, board=board, **data)


BOARD = Resource(
    name="change_board",
    path="/change-boards",
    tag="change approvals",
    label="change board",
    out=BoardOut,
    listed=False,  # GET /change-boards answers boards and paths together (change_approvals.py)
    listing=lambda user, filters: board_selectors.boards(),
    fetch=lambda user, pk: board_selectors.get_board(pk),
    create_in=BoardIn,
    update_in=BoardPatch,
    create=lambda user, data: _save_board(user, data),
    update=lambda user, board, data: _save_board(user, data, board),
)


# --- the approval paths' stages ---------------------------------------------------------------------------


class StageOut(Schema):
    id: int
    path: str
    order: int
    board: int = Field(validation_alias="board_id")
    min_risk: str


class StageIn(Input):
    path: Literal["normal", "emergency"]
    board: int
    min_risk: RiskLevel = "low"


class StageQuery(PageQuery):
    path: Literal["normal", "emergency"] | None = None


def _board(pk: int, *, field: str = "board") -> ChangeBoard:
    return lookups.required(board_selectors.find_board(pk), field)


STAGE = Resource(
    name="change_approval_stage",
    path="/change-approval-stages",
    tag="change approvals",
    label="approval stage",
    about="The boards a normal or an emergency change goes through, in order; a stage from a risk "
    "level on skips changes of lower risk. PUT …/order takes one path's stages.",
    out=StageOut,
    query=StageQuery,
    order=("path", "order", "id"),
    listing=lambda user, filters: board_selectors.stages(path=filters.get("path")),
    fetch=lambda user, pk: board_selectors.get_stage(pk),
    create_in=StageIn,
    create=lambda user, data: boards.add_stage(by=user, **values(data, {"board": _board})),
    delete=lambda user, stage: boards.remove_stage(by=user, stage=stage),
    reorder=lambda user, ids: boards.reorder_stages(by=user, ids=ids),
)


# --- standard change templates ---------------------------------------------------------------------------


class TemplateAdminOut(Schema):
    id: int
    name_fr: str
    name_en: str
    description: str
    implementation_plan: str
    backout_plan: str
    test_plan: str
    risk: str
    group: int | None = Field(validation_alias="group_id")
    duration_minutes: int
    is_active: bool


class TemplateIn(Input):
    name_fr: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    description: str = Field("", max_length=20_000)
    implementation_plan: str = Field(max_length=20_000)
    backout_plan: str = Field("", max_length=20_000)
    test_plan: str = Field("", max_length=20_000)
    risk: RiskLevel = "low"
    group: int | None = None
    duration_minutes: int = Field(60, ge=1)
    is_active: bool = True


class TemplatePatch(Input):
    name_fr: str | None = Field(None, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=20_000)
    implementation_plan: str | None = Field(None, max_length=20_000)
    backout_plan: str | None = Field(None, max_length=20_000)
    test_plan: str | None = Field(None, max_length=20_000)
    risk: RiskLevel | None = None
    group: int | None = None
    duration_minutes: int | None = Field(None, ge=1)
    is_active: bool | None = None


TEMPLATE_FIELDS = (
    "name_fr",
    "name_en",
    "description",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "risk",
    "group",
    "duration_minutes",
    "is_active",
)


def _template_values(data: dict[str, Any]) -> dict[str, Any]:
    return values(data, {"group": lookups.group_by_id})


def _update_template(user: User, template: ChangeTemplate, data: dict[str, Any]) -> ChangeTemplate:
    return change_admin.update_template(template, by=user, **_merged(template, TEMPLATE_FIELDS, _template_values(data)))


TEMPLATE = Resource(
    name="change_template",
    path="/templates",
    tag="changes",
    label="change template",
    about="Pre-approved standard changes; switched off rather than deleted (the changes raised from one keep it).",
    out=TemplateAdminOut,
    listed=False,  # GET /changes/templates lists the active ones for everyone working changes
    listing=lambda user, filters: change_selectors.templates_for_admin(),
    fetch=lambda user, pk: change_selectors.get_template(pk),
    create_in=TemplateIn,
    update_in=TemplatePatch,
    create=lambda user, data: change_admin.create_template(by=user, **_template_values(data)),
    update=_update_template,
)


# --- the risk questionnaire ------------------------------------------------------------------------------


class Choice(Input):
    value: str = Field(max_length=40)
    fr: str = Field(max_length=120)
    en: str = Field(max_length=120)
    score: int = Field(ge=0, le=100)


class QuestionAdminOut(Schema):
    id: int
    order: int
    text_fr: str
    text_en: str
    choices: list[dict[str, Any]]
    is_active: bool


class QuestionIn(Input):
    text_fr: str = Field(max_length=300)
    text_en: str = Field(max_length=300)
    choices: list[Choice] = Field(max_length=20)
    is_active: bool = True


class QuestionPatch(Input):
    text_fr: str | None = Field(None, max_length=300)
    text_en: str | None = Field(None, max_length=300)
    choices: list[Choice] | None = Field(None, max_length=20)
    is_active: bool | None = None


def _update_question(user: User, question: RiskQuestion, data: dict[str, Any]) -> RiskQuestion:
    merged = _merged(question, ("text_fr", "text_en", "choices", "is_active"), data)
    return change_admin.update_question(question, by=user, **merged)


QUESTION = Resource(
    name="risk_question",
    path="/risk-questions",
    tag="changes",
    label="risk question",
    about="The questions of a change's risk assessment; each answer has a score, the sum gives the risk.",
    out=QuestionAdminOut,
    listed=False,  # GET /changes/risk-questions lists the active ones for everyone working changes
    order=("order", "id"),
    listing=lambda user, filters: change_selectors.questions_for_admin(),
    fetch=lambda user, pk: change_selectors.get_question(pk),
    create_in=QuestionIn,
    update_in=QuestionPatch,
    create=lambda user, data: change_admin.create_question(by=user, **data),
    update=_update_question,
    reorder=lambda user, ids: change_admin.reorder_questions(by=user, ids=ids),
)

RESOURCES: tuple[Resource, ...] = ()  # all mounted on the older routers below
mount(change_approvals.router, BOARD)
mount(change_approvals.router, STAGE)
mount(changes_api.router, TEMPLATE)
mount(changes_api.router, QUESTION)


# --- settings ------------------------------------------------------------------------------------------


class ChangeSettingsOut(Schema):
    medium_from: int
    high_from: int
    critical_from: int
    remind_after_hours: int


class ChangeSettingsIn(Input):
    medium_from: int
    high_from: int
    critical_from: int
    remind_after_hours: int | None = None


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not (user.is_active and user.is_admin):
        raise Problem(403, _("Only administrators may manage this through the API."))
    return user


@changes_api.router.get(
    "/settings", response=ChangeSettingsOut, summary="Risk thresholds and reminders", tags=["changes"]
)
def get_change_settings(request: HttpRequest) -> Any:
    """From which scores a change is of medium, high and critical risk, and after how many hours an
    approver who has not decided is reminded (0: never). Administrators."""
    _admin(request)
    return change_selectors.change_settings()


@changes_api.router.put("/settings", response=ChangeSettingsOut, summary="Change the risk thresholds", tags=["changes"])
def put_change_settings(request: HttpRequest, payload: ChangeSettingsIn) -> Any:
    """Each threshold above the one before, from 1 to 1000 (422 otherwise, nothing changed)."""
    return change_admin.update_thresholds(by=_admin(request), **payload.model_dump())


class ProblemSettingsOut(Schema):
    candidate_incidents: int
    candidate_days: int
    rising_factor: Decimal


class ProblemSettingsIn(Input):
    candidate_incidents: int
    candidate_days: int
    rising_factor: float = Field(description="One decimal, e.g. 2.5.")


@problems_api.router.get(
    "/settings", response=ProblemSettingsOut, summary="Problem candidates' settings", tags=["problems"]
)
def get_problem_settings(request: HttpRequest) -> Any:
    """How many incidents in how many days make a problem candidate, and the factor that makes a
    category "rising". Problem managers."""
    user = current_user(request)
    if not problem_permissions.is_problem_manager(user):
        raise Problem(403, _("Only a problem manager may see these settings."))
    return problem_selectors.problem_settings()


@problems_api.router.put(
    "/settings", response=ProblemSettingsOut, summary="Change the problem candidates' settings", tags=["problems"]
)
def put_problem_settings(request: HttpRequest, payload: ProblemSettingsIn) -> Any:
    """Out-of-range numbers answer 422 naming the field; nothing changes."""
    return known_errors.update_candidate_settings(
        by=current_user(request),
        incidents=payload.candidate_incidents,
        days=payload.candidate_days,
        factor=str(payload.rising_factor),
    )
