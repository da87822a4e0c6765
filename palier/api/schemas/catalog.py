"""Schemas of the service catalog API (``palier/api/catalog.py``): items with their form fields,
requests with their answers, approval steps and tasks, and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from palier.api.schemas.common import Input
from palier.catalog.models import ApprovalStage, CatalogItem, ItemField, TaskTemplate

FieldKind = Literal[
    "short_text", "long_text", "number", "date", "choice", "multiple", "person", "attachment", "checkbox", "asset"
]
Visibility = Literal["everyone", "organisations", "groups"]
FulfilmentName = Literal["sequential", "parallel"]
RequestState = Literal["approval", "fulfilment", "done", "rejected", "withdrawn"]
StepState = Literal["waiting", "open", "approved", "rejected", "skipped"]
StageKind = Literal["manager", "people", "group"]
StageRule = Literal["any", "all"]
DecisionName = Literal["pending", "approved", "rejected", "not_needed"]


# --- catalog ----------------------------------------------------------------------------------------


class CatalogCategoryOut(Schema):
    id: int
    name: str = Field(description="In your language.")
    name_fr: str
    name_en: str
    order: int


class CatalogCategoryRef(Schema):
    id: int
    name: str


class ItemSummary(Schema):
    id: int
    slug: str
    name: str = Field(description="In your language.")
    description: str = Field(description="In your language.")
    icon: str
    category: CatalogCategoryRef | None


class ItemPage(Schema):
    items: list[ItemSummary]
    next_cursor: str | None


class ChoiceOut(Schema):
    value: str = Field(description="What to send as the answer.")
    label: str = Field(description="In your language.")
    label_fr: str
    label_en: str


class FieldOut(Schema):
    key: str = Field(description="The name of the answer in the request's ``answers`` object.")
    kind: FieldKind
    required: bool = Field(description="A required checkbox must be ticked (true).")
    label: str = Field(description="In your language.")
    label_fr: str
    label_en: str
    help: str = Field(description="In your language.")
    help_fr: str
    help_en: str
    choices: list[ChoiceOut] = Field(description="Single and multiple choice only.")
    min_value: float | None = Field(description="Numbers only.")
    max_value: float | None = Field(description="Numbers only.")
    max_length: int | None = Field(description="Texts only.")
    api_input: str = Field(
        description="The JSON value to send: a string, a number (or a decimal string), a date "
        "string YYYY-MM-DD, a list of choice values, the person's email address, true/false. "
        "``unsupported``: attachments cannot be sent through the API."
    )
    conditions: dict[str, Any] = Field(
        default_factory=dict,
        description="``show``: the field is asked (and its answer kept) only when an earlier "
        "field's answer matches ``{field, op, value}`` (op: equals, one_of, not_empty, true, false); "
        "``require``: it is required only then; ``filter``: ``{field, map}``, the options offered "
        "for each answer of an earlier single choice. An answer to a field not asked is dropped.",
    )


class ItemDetail(ItemSummary):
    name_fr: str
    name_en: str
    description_fr: str
    description_en: str
    visibility: Visibility
    fulfilment: FulfilmentName
    needs_approval: bool
    fields: list[FieldOut]


# --- administration (palier/api/admin/catalog.py) -----------------------------------------------------

ItemLevel = Literal["low", "medium", "high"]


class ChoiceAdminOut(Schema):
    value: str
    label: str
    label_fr: str
    label_en: str


class FieldAdminOut(Schema):
    """A field as requesters read it (``FieldOut``), with its id and position."""

    id: int
    order: int
    key: str
    kind: FieldKind
    required: bool
    label: str
    label_fr: str
    label_en: str
    help: str
    help_fr: str
    help_en: str
    choices: list[ChoiceAdminOut]
    min_value: float | None
    max_value: float | None
    max_length: int | None
    api_input: str
    conditions: dict[str, Any]

    @staticmethod
    def _shown(obj: ItemField) -> dict[str, Any]:
        from palier.api.catalog import item_field  # the requesters' field, which this one extends

        return item_field(obj)

    @staticmethod
    def resolve_label(obj: ItemField) -> str:
        return str(obj.label)

    @staticmethod
    def resolve_help(obj: ItemField) -> str:
        return str(obj.help)

    @staticmethod
    def resolve_choices(obj: ItemField) -> list[dict[str, Any]]:
        return list(FieldAdminOut._shown(obj)["choices"])

    @staticmethod
    def resolve_min_value(obj: ItemField) -> float | None:
        return FieldAdminOut._shown(obj)["min_value"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_max_value(obj: ItemField) -> float | None:
        return FieldAdminOut._shown(obj)["max_value"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_max_length(obj: ItemField) -> int | None:
        return FieldAdminOut._shown(obj)["max_length"]  # type: ignore[no-any-return]

    @staticmethod
    def resolve_api_input(obj: ItemField) -> str:
        return str(FieldAdminOut._shown(obj)["api_input"])

    @staticmethod
    def resolve_conditions(obj: ItemField) -> dict[str, Any]:
        return dict(obj.conditions or {})


class StageAdminOut(Schema):
    id: int
    item: int = Field(validation_alias="item_id")
    order: int
    kind: Literal["manager", "people", "group"]
    group: int | None = Field(validation_alias="group_id")
    people: list[str] = Field(description="The approvers' email addresses (kind ``people``).")
    rule: Literal["any", "all", "quorum"]
    quorum: int | None
    with_previous: bool = Field(description="Decided at the same time as the stage before it.")

    @staticmethod
    def resolve_people(obj: ApprovalStage) -> list[str]:
        return sorted(person.email for person in obj.people.all())


class TaskAdminOut(Schema):
    id: int
    item: int = Field(validation_alias="item_id")
    order: int
    subject_fr: str
    subject_en: str
    group: int | None = Field(validation_alias="group_id")


class ItemAdminOut(Schema):
    """An item as its administrators read it: what requesters read (``ItemDetail``), with the
    settings, the fields' ids and positions, the approval stages and the fulfilment tasks."""

    id: int
    slug: str
    name: str
    description: str
    icon: str
    category: CatalogCategoryRef | None
    name_fr: str
    name_en: str
    description_fr: str
    description_en: str
    visibility: Visibility
    fulfilment: FulfilmentName
    needs_approval: bool
    is_active: bool
    organisations: list[int]
    groups: list[int]
    target_group: int | None = Field(validation_alias="target_group_id")
    ticket_category: int | None = Field(validation_alias="ticket_category_id")
    impact: ItemLevel
    urgency: ItemLevel
    order: int
    remind_after_hours: int
    fields: list[FieldAdminOut]
    stages: list[StageAdminOut]
    tasks: list[TaskAdminOut]

    @staticmethod
    def resolve_category(obj: CatalogItem) -> dict[str, Any] | None:
        return None if obj.category is None else {"id": obj.category.pk, "name": obj.category.name}

    @staticmethod
    def resolve_needs_approval(obj: CatalogItem) -> bool:
        return bool(obj.stages.all())

    @staticmethod
    def resolve_organisations(obj: CatalogItem) -> list[int]:
        return [o.pk for o in obj.organisations.all()]

    @staticmethod
    def resolve_groups(obj: CatalogItem) -> list[int]:
        return [g.pk for g in obj.groups.all()]

    @staticmethod
    def resolve_fields(obj: CatalogItem) -> list[ItemField]:
        return list(obj.fields.all())

    @staticmethod
    def resolve_tasks(obj: CatalogItem) -> list[TaskTemplate]:
        return list(obj.task_templates.all())


# --- requests ---------------------------------------------------------------------------------------


class RequestCreate(Input):
    answers: dict[str, Any] = Field(
        default_factory=dict,
        max_length=200,
        description="Field key → value (see the item's fields); null or absent: no answer.",
    )
    requester: int | None = Field(None, description="Agents: the person asking (default: you).")


class PersonRef(Schema):
    id: int
    name: str


class TicketRef(Schema):
    id: int
    reference: str
    subject: str
    status: str
    requester: PersonRef
    created_at: datetime


class ItemRef(Schema):
    id: int
    slug: str
    name: str


class AnswerOut(Schema):
    key: str
    kind: FieldKind
    label: str = Field(description="In your language.")
    value: Any = Field(description="As stored: text, decimal string, ISO date, list, {id, email}, boolean…")
    text: str = Field(description="Readable, in the submitter's language.")


class ApprovalDecisionOut(Schema):
    approver: PersonRef
    decision: DecisionName
    comment: str
    decided_at: datetime | None


class StepOut(Schema):
    order: int
    kind: StageKind
    rule: StageRule
    state: StepState
    group: PersonRef | None = Field(description="Group stages: the group (id and name).")
    with_previous: bool = Field(default=False, description="Runs at the same time as the stage before it.")
    approvals: list[ApprovalDecisionOut]


class TaskTicketRef(Schema):
    id: int
    reference: str
    status: str


class TaskOut(Schema):
    order: int
    subject: str = Field(description="In your language.")
    group: PersonRef | None = Field(description="The group doing it (id and name).")
    ticket: TaskTicketRef | None = Field(description="The child request, once the task is opened.")


class RequestSummary(Schema):
    ticket: TicketRef
    item: ItemRef
    state: RequestState
    created_at: datetime


class RequestPage(Schema):
    items: list[RequestSummary]
    next_cursor: str | None


class RequestDetail(RequestSummary):
    fulfilment: FulfilmentName
    answers: list[AnswerOut]
    approval_steps: list[StepOut]
    tasks: list[TaskOut]


# --- approvals --------------------------------------------------------------------------------------


class ApprovalRequestRef(Schema):
    ticket: TicketRef
    item: ItemRef
    state: RequestState
    answers: list[AnswerOut]


class ApprovalOut(Schema):
    id: int
    decision: DecisionName
    comment: str
    stage: int = Field(description="The order of the approval stage.")
    asked_at: datetime
    decided_at: datetime | None
    request: ApprovalRequestRef


class ApprovalPage(Schema):
    items: list[ApprovalOut]
    next_cursor: str | None


class DecisionIn(Input):
    decision: Literal["approve", "reject"]
    comment: str = Field("", max_length=2000, description="Required to reject: the requester reads it.")
