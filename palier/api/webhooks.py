"""Webhook subscriptions through the API, for administrators (docs/webhooks.md, "API"): CRUD with
ETag/If-Match and Idempotency-Key, the secret returned once (on creation and rotation, never
read back), the delivery log with every attempt, redelivery. The payloads Palier posts are in
the ``webhooks`` section of the OpenAPI document (``openapi_webhooks``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from ninja.params.functions import Header
from pydantic import BaseModel

from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.etag import expected_version, set_etag
from palier.api.pagination import keyset_page
from palier.api.schemas.webhooks import (
    DeliveryOut,
    DeliveryPage,
    DeliveryState,
    EventTypeOut,
    SecretIn,
    SecretOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
    SubscriptionPatch,
)
from palier.people.models import User
from palier.problems.services import create_once
from palier.webhooks import kinds, permissions, selectors, services
from palier.webhooks.models import Subscription, SubscriptionIdempotencyKey

router = Router()

MISMATCH = "If-Match names another subscription."


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not permissions.can(user, "manage"):
        raise Problem(403, _("Only administrators can manage webhook subscriptions."))
    return user


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = 50


class DeliveryQuery(PageQuery):
    state: DeliveryState | None = None


def _limit(value: int) -> int:
    return max(1, min(value, 200))


@router.get("/event-types", response=list[EventTypeOut], summary="List the event types")
def event_types(request: HttpRequest) -> list[dict[str, str]]:
    _admin(request)
    return [{"type": name, "label": label} for name, label in kinds.choices()]


@router.get("", response=SubscriptionPage, summary="List the subscriptions")
def list_subscriptions(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    """Oldest first, keyset-paginated (``next_cursor``). Secrets are never returned."""
    user = _admin(request)
    items, cursor = keyset_page(
        selectors.subscriptions(user), order=("id",), cursor=query.cursor, limit=_limit(query.limit)
    )
    return {"items": items, "next_cursor": cursor}


@router.post("", response={200: SubscriptionCreated, 201: SubscriptionCreated}, summary="Subscribe an address")
def create_subscription(
    request: HttpRequest,
    payload: SubscriptionIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Administrators only. The answer carries the signing secret, once. A refused address (not
    https, credentials, a private network) or an unknown event type answers 422. Retrying with the
    same ``Idempotency-Key`` returns the first subscription (200) without its secret: send your own
    ``secret`` to retry safely."""
    user = _admin(request)
    issued: list[services.subscriptions.Issued] = []

    def create() -> Subscription:
        issued.append(services.create_subscription(by=user, **payload.model_dump()))
        return issued[0].subscription

    if idempotency_key:
        fingerprint = hashlib.sha256(json.dumps(payload.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()
        sub, created = create_once(
            store=SubscriptionIdempotencyKey,
            field="subscription",
            key=idempotency_key,
            fingerprint=fingerprint,
            by=user,
            create=create,
        )
    else:
        sub, created = create(), True
    response["Location"] = reverse("api:webhook_detail", args=[sub.pk])
    set_etag(response, sub)
    sub.secret = issued[0].secret if created and issued else None  # type: ignore[attr-defined]
    return Status(201 if created else 200, sub)


@router.get(
    "/{int:subscription_id}", response=SubscriptionOut, url_name="webhook_detail", summary="Read a subscription"
)
def get_subscription(request: HttpRequest, subscription_id: int, response: HttpResponse) -> Subscription:
    sub = selectors.subscription(_admin(request), subscription_id)
    set_etag(response, sub)
    return sub


@router.patch("/{int:subscription_id}", response=SubscriptionOut, summary="Change a subscription")
def update_subscription(
    request: HttpRequest,
    subscription_id: int,
    payload: SubscriptionPatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Subscription:
    """Send the ETag you read as If-Match (or ``version``): none answers 428, a stale one 412.
    ``is_active: true`` turns a subscription back on and sends its waiting deliveries."""
    user = _admin(request)
    sub = selectors.subscription(user, subscription_id)
    data = payload.model_dump(exclude_unset=True)
    version = expected_version(sub, if_match, data.pop("version", None), required=True, mismatch=_(MISMATCH))
    changes = {k: v for k, v in data.items() if v is not None}
    sub = services.update_subscription(sub, by=user, version=version, **changes)
    sub = selectors.subscription(user, subscription_id)
    set_etag(response, sub)
    return sub


@router.delete("/{int:subscription_id}", response={204: None}, summary="Delete a subscription")
def delete_subscription(
    request: HttpRequest, subscription_id: int, if_match: str | None = Header(None, alias="If-Match")
) -> Status[None]:
    """Its deliveries and their log go with it. If-Match required."""
    user = _admin(request)
    sub = selectors.subscription(user, subscription_id)
    version = expected_version(sub, if_match, None, required=True, mismatch=_(MISMATCH))
    services.delete_subscription(sub, by=user, version=version)
    return Status(204, None)


@router.post("/{int:subscription_id}/secret", response=SecretOut, summary="Replace the signing secret")
def rotate_secret(request: HttpRequest, subscription_id: int, payload: SecretIn) -> dict[str, Any]:
    """The new secret is in this answer only and signs every delivery from now on."""
    user = _admin(request)
    issued = services.rotate_secret(selectors.subscription(user, subscription_id), by=user, secret=payload.secret)
    return {"id": issued.subscription.pk, "secret": issued.secret, "version": issued.subscription.version}


@router.get("/{int:subscription_id}/deliveries", response=DeliveryPage, summary="List a subscription's deliveries")
def list_deliveries(request: HttpRequest, subscription_id: int, query: Query[DeliveryQuery]) -> dict[str, Any]:
    """Newest first, keyset-paginated, each with its attempts (status code, duration, error)."""
    user = _admin(request)
    sub = selectors.subscription(user, subscription_id)
    qs = selectors.deliveries(user, sub, state=query.state or "")
    items, cursor = keyset_page(qs, order=("-id",), cursor=query.cursor, limit=_limit(query.limit))
    attempts = selectors.attempts_of(items)
    for item in items:
        item.attempt_log_list = attempts[item.pk]  # type: ignore[attr-defined]
    return {"items": [_delivery(item) for item in items], "next_cursor": cursor}


def _delivery(item: Any) -> dict[str, Any]:
    fields = (
        "delivery_id", "event_type", "state", "attempts", "next_attempt_at",
        "last_status", "last_error", "created_at", "delivered_at",
    )  # fmt: skip
    out = {name: getattr(item, name) for name in fields}
    out["attempt_log"] = getattr(item, "attempt_log_list", [])
    return out


@router.post(
    "/{int:subscription_id}/deliveries/{uuid:delivery_id}/redeliver",
    response={202: DeliveryOut},
    summary="Send a delivery again",
)
def redeliver(request: HttpRequest, subscription_id: int, delivery_id: UUID) -> Status[Any]:
    """The same body and delivery id, signed anew, due now with a fresh set of attempts."""
    user = _admin(request)
    sub = selectors.subscription(user, subscription_id)
    delivery = services.redeliver(selectors.delivery(user, sub, delivery_id), by=user)
    delivery.attempt_log_list = selectors.attempts_of([delivery])[delivery.pk]  # type: ignore[attr-defined]
    return Status(202, _delivery(delivery))


# --- the ``webhooks`` section of the OpenAPI 3.1 document ------------------------------------------

_HEADERS = (
    ("X-Palier-Signature", "t=<unix time>,v1=<hex HMAC-SHA256(secret, “<unix time>.” + raw body)>"),
    ("X-Palier-Timestamp", "The unix time the attempt was signed at (also in the signature)."),
    ("X-Palier-Delivery", "The delivery id: the same on every attempt and redelivery."),
    ("X-Palier-Event", "The event type."),
    ("X-Palier-Webhook-Version", "The payload's version: 1."),
)


def openapi_webhooks(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the payload of every event type under ``webhooks`` (OpenAPI 3.1) and their models
    under ``components.schemas``."""
    from palier.api.schemas import webhooks as payload_schemas

    components = schema.setdefault("components", {}).setdefault("schemas", {})
    models: dict[str, type[BaseModel]] = {
        "ticket": payload_schemas.TicketWebhook,
        "sla": payload_schemas.TicketWebhook,
        "approval": payload_schemas.TicketWebhook,
        "problem": payload_schemas.ProblemWebhook,
        "change": payload_schemas.ChangeWebhook,
    }
    for model in dict.fromkeys(models.values()):
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in found.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(model.__name__, found)
    parameters = [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": text}
        for name, text in _HEADERS
    ]
    hooks: dict[str, Any] = {}
    for event_type, label in kinds.choices():
        model = models[event_type.split(".", 1)[0]]
        hooks[event_type] = {
            "post": {
                "summary": label,
                "description": (
                    f"Posted to the subscriptions of “{event_type}”, signed (docs/webhooks.md). "
                    "Answer 2xx within 5 seconds; anything else is retried with backoff."
                ),
                "parameters": parameters,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
                },
                "responses": {"2XX": {"description": "Received; not sent again."}},
            }
        }
    schema["webhooks"] = hooks
    return schema
