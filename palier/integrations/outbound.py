"""Outgoing chat webhooks: Slack incoming webhooks and Teams incoming webhook / Workflows URLs.

``post_slack`` and ``post_teams`` queue a background task after commit; the task posts the JSON
once per attempt and is queued again with a growing delay on a network error, 429 or 5xx
(``RETRY_DELAYS``); other answers are final. Standard library only (urllib).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

RETRY_DELAYS = (10, 60, 300)  # seconds before the 2nd, 3rd and 4th attempts
TIMEOUT = 5.0


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def slack_message(text: str) -> dict[str, Any]:
    return {"text": text}


def teams_card(*, title: str, text: str, facts: Mapping[str, str] | None = None, url: str = "") -> dict[str, Any]:
    """A message carrying one Adaptive Card, as Teams incoming webhooks and Workflows expect."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": text, "wrap": True},
    ]
    if facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in facts.items()]})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if url:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Palier", "url": url}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def send_json(url: str, payload: Mapping[str, Any], *, timeout: float = TIMEOUT) -> int:
    """POST ``payload`` as JSON once; the HTTP status, or ``DeliveryError``."""
    if not url.startswith(("https://", "http://")):
        raise DeliveryError(f"not an http(s) address: {url[:60]}", retryable=False)
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "Palier"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        retryable = exc.code == 429 or exc.code >= 500
        raise DeliveryError(f"HTTP {exc.code}", retryable=retryable) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"network: {exc}", retryable=True) from exc


def attempt(url: str, payload: Mapping[str, Any], *, number: int) -> float | None:
    """One delivery attempt. None when done (sent or given up); else the delay before the next."""
    try:
        send_json(url, payload)
    except DeliveryError as exc:
        if exc.retryable and number <= len(RETRY_DELAYS):
            logger.warning("webhook attempt %d to %s failed (%s); retrying", number, url[:60], exc)
            return float(RETRY_DELAYS[number - 1])
        logger.error("webhook to %s failed after %d attempt(s): %s", url[:60], number, exc)
    return None


def post_later(url: str, payload: Mapping[str, Any]) -> None:
    """Queue the delivery once the current transaction commits."""
    from palier.integrations.tasks import post_json_task

    data = dict(payload)
    transaction.on_commit(lambda: post_json_task.enqueue(url, data, 1))


def post_slack(url: str, text: str) -> None:
    post_later(url, slack_message(text))


def post_teams(url: str, *, title: str, text: str, facts: Mapping[str, str] | None = None, link: str = "") -> None:
    post_later(url, teams_card(title=title, text=text, facts=facts, url=link))


def slack_response_url_allowed(url: str) -> bool:
    """Only Slack's own reply addresses (``PALIER_SLACK_HOOKS_URL``, https://hooks.slack.com/ by
    default) receive answers to a click: a forged ``response_url`` cannot make Palier post elsewhere."""
    from django.conf import settings

    prefix = settings.PALIER_SLACK_HOOKS_URL
    return bool(url) and url.startswith(prefix) and "@" not in url.split("/", 3)[2]


def call_slack(method: str, *, token: str, payload: Mapping[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    """One call of Slack's Web API (``PALIER_SLACK_API_URL``, https://slack.com/api by default) with
    the bot token; Slack answers 200 with ``"ok": false`` on errors, raised as ``DeliveryError``."""
    from django.conf import settings

    url = f"{settings.PALIER_SLACK_API_URL.rstrip('/')}/{method}"
    request = urllib.request.Request(  # noqa: S310  (a configured https address)
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {token}",
            "User-Agent": "Palier",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read(1_000_000) or b"{}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}", retryable=exc.code == 429 or exc.code >= 500) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"network: {exc}", retryable=True) from exc
    if not isinstance(answer, dict) or not answer.get("ok"):
        error = str(answer.get("error") if isinstance(answer, dict) else "not JSON")[:100]
        raise DeliveryError(f"Slack refused {method}: {error}", retryable=error in {"ratelimited", "internal_error"})
    return answer
