"""Outgoing chat webhooks: Slack incoming webhooks and Teams incoming webhook / Workflows URLs.

``post_slack`` and ``post_teams`` queue a background task after commit; the task posts the JSON
once per attempt and is queued again with a growing delay on a network error, 429 or 5xx
(``RETRY_DELAYS``); other answers are final. Standard library only (urllib).

Signed webhooks to an address an administrator typed (automation rules, webhook subscriptions)
share ``hmac_sha256`` and ``post_body``: the address parsed (``parse_target``: https unless
allowed, no credentials), its name resolved and every address checked (``resolve``: no loopback,
private, link-local or reserved address unless allowed), the connection made to a checked address,
no redirect followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
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


# --- signed deliveries to addresses an administrator typed (automation rules, webhook subscriptions) ---


def hmac_sha256(secret: str, message: bytes) -> str:
    """The hex HMAC-SHA256 of ``message`` under ``secret``: the one signing of Palier's outgoing
    webhooks (automation rules sign the body, subscriptions ``<timestamp>.<body>``)."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class UnsafeTarget(DeliveryError):
    """An address Palier refuses to post to (not HTTPS, credentials, a private network)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return mapped
        if address.teredo is not None:
            return address.teredo[1]
    return address


def is_public(text: str) -> bool:
    """True for an address on the public internet: not loopback, private, link-local (the cloud
    metadata service), shared, reserved, multicast or unspecified, IPv4-mapped IPv6 included."""
    try:
        address = _ip(text)
    except ValueError:
        return False
    return address.is_global and not address.is_multicast


def parse_target(url: str, *, allow_http: bool) -> Target:
    """The parts of a webhook address, or ``UnsafeTarget`` with a translated reason."""
    from django.utils.translation import gettext as _

    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(_("This is not a valid web address.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget(_("Enter an address starting with https://."))
    if scheme == "http" and not allow_http:
        raise UnsafeTarget(_("Only https:// addresses are allowed on this desk."))
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTarget(_("The address must not contain a user name or password."))
    if parts.fragment:
        raise UnsafeTarget(_("The address must not contain a fragment (#…)."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


def resolve(target: Target, *, allow_private: bool) -> list[str]:
    """Every address the target's name resolves to, each checked: one private address refuses the
    whole name (``UnsafeTarget``), so the connection goes to an address that was checked."""
    from django.utils.translation import gettext as _

    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise DeliveryError(f"cannot resolve {target.host[:60]}: {exc}", retryable=True) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise DeliveryError(f"no address for {target.host[:60]}", retryable=True)
    if not allow_private and not all(is_public(a) for a in addresses):
        raise UnsafeTarget(_("The address leads to a private or local network, which is not allowed."))
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str


def post_body(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allow_http: bool,
    allow_private: bool,
    timeout: float = TIMEOUT,
) -> Response:
    """POST ``body`` once to ``url``, connecting only to an address checked after resolving the
    name (so a name that changes its answer between the check and the connection cannot lead to a
    private network); redirects are not followed. The response, whatever its status (the caller
    decides), or ``DeliveryError`` (network) / ``UnsafeTarget`` (refused)."""
    target = parse_target(url, allow_http=allow_http)
    addresses = resolve(target, allow_private=allow_private)
    sent = {"Content-Type": "application/json", "User-Agent": "Palier", **headers}
    last: Exception | None = None
    for address in addresses:
        kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        connection = kind(target, address, timeout)
        try:
            connection.request("POST", target.path, body=body, headers=sent)
            response = connection.getresponse()
            excerpt = response.read(1024).decode("utf-8", "replace")
            return Response(int(response.status), excerpt)
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        finally:
            connection.close()
    raise DeliveryError(f"network: {last}", retryable=True)
