from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import SerializerFunctionWrapHandler, field_validator, model_serializer
from pydantic.json_schema import SkipJsonSchema

from palier.api.schemas.common import CategoryRef, GroupRef, Input, OrganisationRef, UserRef
from palier.tickets import permissions, selectors
from palier.tickets.models import Attachment, Ticket, TicketEvent

Kind = Literal["incident", "request"]
LevelName = Literal["high", "medium", "low"]
StatusName = Literal[
    "new",
    "assigned",
    "in_progress",
    "pending_requester",
    "pending_vendor",
    "pending_change",
    "pending_approval",
    "resolved",
    "closed",
    "cancelled",
]
ChannelName = Literal["web", "email", "teams", "slack", "phone", "api", "monitoring"]
LinkKind = Literal["parent", "related", "duplicate"]


# --- inputs ---------------------------------------------------------------------------------------


class TicketCreate(Input):
    subject: str = Field(max_length=250)
    description: str = Field("", max_length=100_000)
    kind: Kind = "incident"
    category: int | None = None
    impact: LevelName = "low"
    urgency: LevelName = "low"
    requester: int | None = Field(None, description="Agents only; defaults to the caller.")
    group: int | None = Field(None, description="Agents only; defaults to the triage group.")
    assignee: int | None = Field(None, description="Agents only.")
    tags: list[str] = Field(default_factory=list, max_length=20)
    channel: ChannelName = "api"


class TicketPatch(Input):
    subject: str | None = Field(None, max_length=250)
    description: str | None = Field(None, max_length=100_000)
    kind: Kind | None = None
    category: int | None = None
    impact: LevelName | None = None
    urgency: LevelName | None = None
    group: int | None = Field(None, description="null clears it.")
    assignee: int | None = Field(None, description="null clears it.")
    tags: list[str] | None = Field(None, max_length=20)
    version: int | None = Field(None, description="The version you saw; or send it as If-Match.")

    @field_validator("subject", "description", "kind", "impact", "urgency", "tags", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        """Only category, group and assignee may be cleared with null."""
        if value is None:
            raise ValueError(_("This field cannot be null."))
        return value


class TransitionIn(Input):
    status: StatusName
    note: str = Field("", max_length=100_000)
    version: int | None = None


class EscalationIn(Input):
    reason: str = Field(max_length=100_000, description="Why (required); kept as an internal note.")
    group: int | None = Field(None, description="A chosen group; otherwise the next level's default group.")
    level: int | None = Field(None, ge=1, le=5, description="A chosen level instead of a group.")
    version: int | None = None


class VendorReferenceIn(Input):
    vendor_reference: str = Field(max_length=100)
    version: int | None = None


class CommentIn(Input):
    body: str = Field(max_length=100_000)
    internal: bool = False


class WatcherIn(Input):
    user: int | None = Field(None, description="Defaults to the caller.")


class LinkIn(Input):
    target: int
    kind: LinkKind


# --- outputs --------------------------------------------------------------------------------------


def staff_view(context: dict[str, Any] | None, ticket: Ticket) -> bool:
    """The one decision of what the caller reads of ``ticket``: the desk's view (agents working on
    it, administrators) or the requester's, which is what the portal shows."""
    request = (context or {}).get("request")
    user = getattr(request, "auth", None)
    return user is not None and permissions.works_on(user, ticket)


# the ticket's fields the portal keeps from requesters
STAFF_FIELDS = ("sla_due_at", "vendor_reference")
# what a requester reads of the ``created`` event: not how the desk placed the ticket (routing
# rule, group, assignee), which the portal's timeline does not say either
REQUESTER_CREATED_DATA = frozenset({"reference", "status", "priority", "channel"})
PLACEMENT_DATA = frozenset({"group", "assignee", "placed", "rule", "old_group"})


def requester_event_data(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind == TicketEvent.Kind.CREATED:
        return {key: value for key, value in data.items() if key in REQUESTER_CREATED_DATA}
    return {key: value for key, value in data.items() if key not in PLACEMENT_DATA}


class TicketOut(Schema):
    id: int
    reference: str
    kind: str
    number: int
    subject: str
    status: str
    impact: str
    urgency: str
    priority: int
    channel: str
    requester: UserRef
    organisation: OrganisationRef | None
    category: CategoryRef | None
    group: GroupRef | None
    assignee: UserRef | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None = Field(
        None, description="The earliest due time among the running SLA clocks (desk staff only)."
    )
    vendor_reference: str = Field("", description="The vendor's own case number (desk staff only).")
    resolved_level: int | None = Field(description="The support level (1-5) at which the ticket was resolved.")
    version: int
    staff: SkipJsonSchema[bool] = Field(False, exclude=True)  # who reads it; not part of the answer

    @staticmethod
    def resolve_staff(obj: Ticket, context: dict[str, Any]) -> bool:
        return staff_view(context, obj)

    @model_serializer(mode="wrap")  # no return annotation: the OpenAPI document keeps the fields
    def _for_audience(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        if not self.staff:
            for name in STAFF_FIELDS:
                data.pop(name, None)
        return data


class TicketRef(Schema):
    id: int
    reference: str
    subject: str
    status: str


class LinkOut(Schema):
    id: int
    kind: str
    direction: Literal["out", "in"]
    ticket: TicketRef


class TicketDetail(TicketOut):
    description: str
    tags: list[str]
    watchers: list[UserRef]
    links: list[LinkOut]

    @staticmethod
    def resolve_tags(obj: Ticket) -> list[str]:
        return selectors.tag_names(obj)

    @staticmethod
    def resolve_watchers(obj: Ticket) -> list[Any]:
        return selectors.watchers_of(obj)

    @staticmethod
    def resolve_links(obj: Ticket, context: dict[str, Any]) -> list[Any]:
        """Only links whose other ticket the caller may see (``obj`` comes from ``ticket_detail_related``)."""
        return selectors.links_visible(context["request"].auth, obj)


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    internal: bool = Field(alias="is_internal")
    comment: int | None = Field(alias="comment_id")
    uploaded_by: int = Field(alias="uploaded_by_id")
    created_at: datetime
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Attachment) -> str:
        return reverse("api:attachment_download", args=[obj.pk])


class CommentOut(Schema):
    id: int
    author: UserRef
    body: str
    internal: bool = Field(alias="is_internal")
    channel: str
    created_at: datetime
    attachments: list[AttachmentOut]


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None


class AttachmentPage(Schema):
    items: list[AttachmentOut]
    next_cursor: str | None


class EventOut(Schema):
    id: int
    kind: str
    actor: UserRef | None
    internal: bool = Field(alias="is_internal")
    data: dict[str, Any] = Field(description="For requesters, without how the desk placed the ticket.")
    created_at: datetime

    @staticmethod
    def resolve_data(obj: TicketEvent, context: dict[str, Any]) -> dict[str, Any]:
        data = dict(obj.data or {})
        return data if staff_view(context, obj.ticket) else requester_event_data(obj.kind, data)


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class SlaClockOut(Schema):
    kind: str
    label: str
    target_minutes: int
    due_at: datetime | None
    remaining_minutes: float
    paused: bool
    warned: bool
    breached: bool
    running: bool
    outcome: str
    group: str
    calendar: str


class SlaEventOut(Schema):
    """One entry of the SLA timeline: a clock's change (started, paused, re-targeted, met…) or a
    warning or breach (``kind`` "warning" / "breach", internal events of the ticket's history)."""

    at: datetime
    kind: str
    clock: str
    text: str


class TicketSlaOut(Schema):
    expectation: list[str] = Field(description="What the requester may expect, in plain words.")
    clocks: list[SlaClockOut] = Field(description="Agents only: the latest clock of each kind.")
    timeline: list[SlaEventOut] = Field(description="Agents only: every start, pause, change, warning and breach.")
