"""Outgoing webhooks of automation rules: a JSON body signed with HMAC-SHA256 and the rule's secret.

The receiver checks ``X-Palier-Signature: sha256=<hex>`` = HMAC-SHA256(secret, raw body). The body
is built and signed when the rule runs and stored in the outbox (``palier.core.outbox``) in the
rule's transaction, then posted after commit by a worker, once per attempt; a network error, 429 or
5xx is retried with backoff (10 s, 1 min, 5 min, then doubling up to an hour, for about a day), other
answers are final; a failed delivery stays listed for the administrators. ``X-Palier-Delivery`` is
the same for every attempt of one delivery, so the receiver can drop duplicates.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.utils import timezone

from palier.core import outbox
from palier.integrations.outbound import DeliveryError, hmac_sha256, post_body
from palier.notifications.email import ticket_url
from palier.people.models import User
from palier.tickets.models import Ticket

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Palier-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac_sha256(secret, body)


def payload(
    ticket: Ticket, *, rule_id: int, rule_name: str, trigger: str, event_id: int | None, key: str
) -> dict[str, Any]:
    return {
        "delivery": key,
        "rule": {"id": rule_id, "name": rule_name},
        "trigger": trigger,
        "event": event_id,
        "sent_at": timezone.now().isoformat(),
        "ticket": {
            "id": ticket.pk,
            "reference": ticket.reference,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "kind": ticket.kind,
            "channel": ticket.channel,
            "group": ticket.group.name if ticket.group_id and ticket.group else None,
            "assignee": ticket.assignee.email if ticket.assignee_id and ticket.assignee else None,
            "requester": ticket.requester.email,
            "url": ticket_url(ticket, User(role=User.Role.AGENT)),
        },
    }


def queue_webhook(*, url: str, secret: str, payload: dict[str, Any]) -> None:
    """Sign now, store in the outbox in the current transaction, post after it commits (nothing is
    sent if it rolls back, nothing lost if the worker or the receiver is down)."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    signature = sign(secret, body.encode("utf-8"))
    delivery = str(payload.get("delivery", ""))
    outbox.add(
        "automation.webhook",
        key=delivery or sign(secret, body.encode("utf-8")),
        payload={"url": url, "body": body, "signature": signature, "delivery": delivery},
    )


def adopt(*, url: str, body: str, signature: str, delivery: str) -> None:
    """A delivery queued as a task by an earlier version (upgrade): into the outbox, signed as it was."""
    outbox.add(
        "automation.webhook", key=delivery or signature,
        payload={"url": url, "body": body, "signature": signature, "delivery": delivery},
    )  # fmt: skip


def post(url: str, body: str, signature: str, delivery: str) -> int:
    """POST the signed body once; the HTTP status, or ``DeliveryError``. The address is checked as
    the webhook subscriptions' are (``outbound.post_body``): https only and public networks only,
    unless ``PALIER_WEBHOOKS_ALLOW_HTTP`` / ``PALIER_WEBHOOKS_ALLOW_PRIVATE`` say otherwise, and
    the connection goes to the address checked."""
    from django.conf import settings

    headers = {SIGNATURE_HEADER: signature, "X-Palier-Delivery": delivery}
    response = post_body(
        url,
        body.encode("utf-8"),
        headers,
        allow_http=settings.PALIER_WEBHOOKS_ALLOW_HTTP,
        allow_private=settings.PALIER_WEBHOOKS_ALLOW_PRIVATE,
    )
    if response.status >= 300:
        raise DeliveryError(f"HTTP {response.status}", retryable=response.status == 429 or response.status >= 500)
    return response.status


def deliver(item: dict[str, Any]) -> None:
    """The outbox handler: one attempt; raises to be tried again, ``Permanent`` when it cannot help."""
    try:
        post(item["url"], item["body"], item["signature"], item["delivery"])
    except DeliveryError as exc:
        if exc.retryable:
            raise
        raise outbox.Permanent(str(exc)) from exc
