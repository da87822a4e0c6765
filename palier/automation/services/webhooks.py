"""Outgoing webhooks of automation rules: a JSON body signed with HMAC-SHA256 and the rule's secret.

The receiver checks ``X-Palier-Signature: sha256=<hex>`` = HMAC-SHA256(secret, raw body). The body
is built and signed when the rule runs, then posted after commit by a background task, once per
attempt; a network error, 429 or 5xx is retried after 10 s, 1 min and 5 min (the integrations'
``RETRY_DELAYS``), other answers are final. ``X-Palier-Delivery`` is the same for every attempt of
one delivery, so the receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.db import transaction
from django.utils import timezone

from palier.integrations.outbound import RETRY_DELAYS, TIMEOUT, DeliveryError
from palier.notifications.email import ticket_url
from palier.people.models import User
from palier.tickets.models import Ticket

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Palier-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


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
    """Sign now, post after the current transaction commits (nothing is sent if it rolls back)."""
    from palier.automation.tasks import deliver_webhook_task

    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    signature = sign(secret, body.encode("utf-8"))
    delivery = str(payload.get("delivery", ""))
    transaction.on_commit(lambda: deliver_webhook_task.enqueue(url, body, signature, delivery, 1))


def post(url: str, body: str, signature: str, delivery: str) -> int:
    """POST the signed body once; the HTTP status, or ``DeliveryError``."""
    if not url.startswith(("https://", "http://")):
        raise DeliveryError(f"not an http(s) address: {url[:60]}", retryable=False)
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        url,
        data=body.encode("utf-8"),
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Palier",
            SIGNATURE_HEADER: signature,
            "X-Palier-Delivery": delivery,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", retryable=exc.code == 429 or exc.code >= 500) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"network: {exc}", retryable=True) from exc


def deliver_webhook(url: str, body: str, signature: str, delivery: str, *, attempt: int) -> float | None:
    """One attempt. None when done (delivered or given up), else the delay before the next one."""
    try:
        post(url, body, signature, delivery)
    except DeliveryError as exc:
        if exc.retryable and attempt <= len(RETRY_DELAYS):
            log.warning("automation webhook %s attempt %d failed (%s); retrying", url[:60], attempt, exc)
            return float(RETRY_DELAYS[attempt - 1])
        log.error("automation webhook %s failed after %d attempt(s): %s", url[:60], attempt, exc)
    return None
