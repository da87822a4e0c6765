"""A small Bot Connector client: the bot's token and the activities it sends.

Why not the Bot Framework SDK for Python: it is built on aiohttp and its own adapter, web server
and state storage, pulls a large dependency tree, and would sit beside Django's request handling
rather than in it. Palier needs three REST calls (token, send, update) and the JWT check
(``auth.py``, joserfc), which fit in two short modules that the tests drive against local servers.

- ``token(app)``: client credentials against ``PALIER_TEAMS_TOKEN_URL`` with the app's id and the
  secret from its environment variable, cached (Django's cache) until five minutes before expiry.
- ``queue(...)``: records the activity to send in the outbox, in the caller's transaction; a worker
  sends it after commit (``deliver``), retried with backoff until done (``palier/core/outbox.py``).
  Nothing is sent from a web request.
- Only addresses of ``PALIER_TEAMS_ALLOWED_SERVICE_URLS`` are written to.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from palier.core import outbox
from palier.integrations import selectors as chat_selectors
from palier.integrations.models import ChatApp
from palier.teamsbot import auth
from palier.teamsbot.models import Conversation, SentMessage

log = logging.getLogger(__name__)

OUTBOX_KIND = "teams.send"
TIMEOUT = 10.0


class Temporary(Exception):
    """The connector or the token endpoint may answer later (network, 429, 5xx): try again."""


def _token_key(app: ChatApp) -> str:
    return "teamsbot:token:" + hashlib.sha256(f"{app.pk}:{app.bot_app_id}".encode()).hexdigest()[:32]


def token(app: ChatApp) -> str:
    """The bot's access token for the Bot Connector, from the cache or the token endpoint."""
    key = _token_key(app)
    cached = cache.get(key)
    if isinstance(cached, str) and cached:
        return cached
    secret = chat_selectors.chat_secret(app)
    if not app.bot_app_id or not secret:
        raise outbox.Permanent(f"Teams app {app.slug}: the application id or its secret variable is not set")
    try:
        answer = requests.post(
            settings.PALIER_TEAMS_TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": app.bot_app_id,
                "client_secret": secret,
                "scope": settings.PALIER_TEAMS_TOKEN_SCOPE,
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise Temporary(f"token endpoint unreachable: {type(exc).__name__}") from exc
    if answer.status_code == 429 or answer.status_code >= 500:
        raise Temporary(f"token endpoint answered {answer.status_code}")
    if answer.status_code != 200:
        # a wrong secret or a deleted app: an administrator must act, retrying will not help
        raise outbox.Permanent(f"token endpoint refused the credentials ({answer.status_code})")
    try:
        data = answer.json()
        access = str(data["access_token"])
        lifetime = int(data.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as exc:
        raise Temporary("token endpoint answered without a token") from exc
    cache.set(key, access, max(lifetime - 300, 30))
    return access


def _call(app: ChatApp, method: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    if not auth.service_url_allowed(url):
        raise outbox.Permanent("not an allowed Bot Connector address")
    headers = {"Authorization": f"Bearer {token(app)}"}
    try:
        answer = requests.request(method, url, json=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise Temporary(f"Bot Connector unreachable: {type(exc).__name__}") from exc
    if answer.status_code == 401:
        cache.delete(_token_key(app))  # a revoked or rotated token: the next attempt asks a new one
        raise Temporary("Bot Connector refused the token (401)")
    if answer.status_code == 429 or answer.status_code >= 500:
        raise Temporary(f"Bot Connector answered {answer.status_code}")
    if answer.status_code >= 400:
        raise outbox.Permanent(f"Bot Connector refused the activity ({answer.status_code})")
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def conversation_url(service_url: str, conversation_id: str) -> str:
    return f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"


def send(app: ChatApp, conversation: Conversation, activity: dict[str, Any], *, reply_to: str = "") -> str:
    """Post ``activity`` to the conversation (as a reply to ``reply_to`` when given); its id."""
    url = conversation_url(conversation.service_url, conversation.conversation_id)
    if reply_to:
        url += "/" + quote(reply_to, safe="")
    body = {"type": "message", **activity, "from": {"id": f"28:{app.bot_app_id}"}}
    body["conversation"] = {"id": conversation.conversation_id}
    return str(_call(app, "POST", url, body).get("id") or "")


def update(app: ChatApp, conversation: Conversation, activity_id: str, activity: dict[str, Any]) -> None:
    """Replace a message the bot sent (an answered card)."""
    url = conversation_url(conversation.service_url, conversation.conversation_id) + "/" + quote(activity_id, safe="")
    body = {"type": "message", **activity, "id": activity_id, "conversation": {"id": conversation.conversation_id}}
    _call(app, "PUT", url, body)


# --- the outbox -----------------------------------------------------------------------------------------


def queue(
    conversation: Conversation,
    activity: dict[str, Any],
    *,
    key: str,
    reply_to: str = "",
    update_id: str = "",
    ticket_id: int | None = None,
) -> None:
    """Send ``activity`` to ``conversation`` from a worker after commit (or replace the message
    ``update_id``); ``key`` makes it once (a second item with the same key is not added).
    ``ticket_id``: the message is about that ticket, a reply to it threads onto it."""
    payload = {
        "conversation": conversation.pk,
        "activity": activity,
        "reply_to": reply_to,
        "update_id": update_id,
        "ticket": ticket_id,
    }
    outbox.add(OUTBOX_KIND, key=key, payload=payload)


def deliver(payload: dict[str, Any]) -> None:
    """The outbox handler: one activity sent (or updated). Raises to be tried again later."""
    conversation = Conversation.objects.select_related("app").filter(pk=int(payload.get("conversation") or 0)).first()
    if conversation is None or not conversation.app.is_active:
        raise outbox.Permanent("the conversation or its app is gone")
    app = conversation.app
    activity = payload.get("activity") or {}
    if payload.get("update_id"):
        update(app, conversation, str(payload["update_id"]), activity)
        return
    sent_id = send(app, conversation, activity, reply_to=str(payload.get("reply_to") or ""))
    ticket_id = payload.get("ticket")
    if sent_id and ticket_id:
        try:
            with transaction.atomic():
                SentMessage.objects.create(conversation=conversation, activity_id=sent_id[:200], ticket_id=ticket_id)
        except IntegrityError:
            pass  # sent again after a worker died: already remembered
