"""Webhook subscriptions and their deliveries (docs/webhooks.md, "API")."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from palier.api.schemas.common import Input

DeliveryState = Literal["pending", "running", "delivered", "failed"]


class SubscriptionIn(Input):
    name: str = Field(max_length=120)
    url: str = Field(max_length=500, description="An https:// address (http:// only where the desk allows it).")
    event_types: list[str] = Field(description="Types from GET /webhooks/event-types.")
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="The signing secret; left out, Palier makes one. Returned once, in this answer only.",
    )
    is_active: bool = True


class SubscriptionPatch(Input):
    name: str | None = Field(None, max_length=120)
    url: str | None = Field(None, max_length=500)
    event_types: list[str] | None = None
    is_active: bool | None = Field(None, description="true turns it back on: its waiting deliveries go out.")
    version: int | None = Field(None, description="The version you saw, if you send no If-Match.")


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    is_active: bool
    disabled_reason: str = Field(description="“failures” (turned off by Palier), “admin”, or empty.")
    disabled_at: datetime | None
    consecutive_failures: int
    version: int
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(
        description="The signing secret, shown in this answer only (null when an Idempotency-Key replays it)."
    )


class SubscriptionPage(Schema):
    items: list[SubscriptionOut]
    next_cursor: str | None


class SecretIn(Input):
    secret: str | None = Field(None, min_length=16, max_length=200)


class SecretOut(Schema):
    id: int
    secret: str = Field(description="The new signing secret, shown once; in use from now on.")
    version: int


class EventTypeOut(Schema):
    type: str
    label: str


class AttemptOut(Schema):
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null when it did not answer.")
    duration_ms: int
    error: str


class DeliveryOut(Schema):
    delivery_id: UUID = Field(
        description="Sent as X-Palier-Delivery and the payload's “id”; the same on every attempt."
    )
    event_type: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut] = Field(description="Every attempt, oldest first.")


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None


# --- what Palier posts: the payloads, version 1 (the ``webhooks`` section of the OpenAPI document) ---


class PersonRef(Schema):
    id: int
    name: str
    email: str


class NamedRef(Schema):
    id: int
    name: str


class EventRef(Schema):
    id: int = Field(description="The history event's id (ticket, problem or change history).")
    kind: str = Field(description="The history event's own kind (created, status, commented, …).")
    details: dict[str, object] = Field(description="What changed: old → new values, the comment's id, …")


class TicketEventRef(EventRef):
    internal: bool = Field(description="Hidden from requesters (an internal note, a group change, …).")


class TicketBody(Schema):
    id: int
    reference: str
    kind: Literal["incident", "request"]
    subject: str
    status: str
    priority: int
    impact: str
    urgency: str
    channel: str
    group: NamedRef | None
    assignee: PersonRef | None
    requester: PersonRef
    created_at: datetime
    url: str


class ProblemBody(Schema):
    id: int
    reference: str
    title: str
    status: str
    priority: int
    url: str


class ChangeBody(Schema):
    id: int
    reference: str
    title: str
    kind: str
    status: str
    risk: str
    outcome: str | None
    planned_start: datetime | None
    planned_end: datetime | None
    url: str


class TicketData(Schema):
    ticket: TicketBody
    event: TicketEventRef


class ProblemData(Schema):
    problem: ProblemBody
    event: EventRef


class ChangeData(Schema):
    change: ChangeBody
    event: EventRef


class _Envelope(Schema):
    version: Literal[1] = Field(description="The payload's version, also sent as X-Palier-Webhook-Version.")
    id: UUID = Field(description="The delivery id, also sent as X-Palier-Delivery: drop a second one.")
    type: str = Field(description="The event type, also sent as X-Palier-Event.")
    occurred_at: datetime
    actor: PersonRef | None = Field(description="Who did it; null for Palier itself (SLA sweep, rules).")


class TicketWebhook(_Envelope):
    data: TicketData


class ProblemWebhook(_Envelope):
    data: ProblemData


class ChangeWebhook(_Envelope):
    data: ChangeData
