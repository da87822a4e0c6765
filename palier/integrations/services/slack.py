"""Slack: Events API callbacks (mentions, direct messages) and the ``/ticket`` slash command.

The endpoint answers at once; opening a ticket is queued (Slack waits three seconds at most).
Status and help answers are ephemeral replies to the slash command only, so a status is never
posted where others could read it.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from palier.integrations import outbound
from palier.integrations.models import ChatApp
from palier.integrations.services import chat

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def _email(event: dict[str, Any]) -> str:
    """An email carried by the payload, when an upstream proxy or Slack adds one."""
    profile = event.get("user_profile")
    candidates = [event.get("user_email"), event.get("email")]
    if isinstance(profile, dict):
        candidates.append(profile.get("email"))
    return next((c for c in candidates if isinstance(c, str) and "@" in c), "")


def _queue_open(app: ChatApp, user_id: int, text: str, reply_url: str = "") -> None:
    from palier.integrations.tasks import open_chat_ticket_task

    transaction.on_commit(lambda: open_chat_ticket_task.enqueue(app.pk, user_id, text, reply_url))


def handle_event(app: ChatApp, envelope: dict[str, Any]) -> str:
    """One ``event_callback``; returns what happened (for logs and tests)."""
    event = envelope["event"]
    if event.get("bot_id") or event.get("subtype"):
        return "ignored"  # bots (ourselves included) and edits never open tickets: no loops
    wanted = event.get("type") == "app_mention" or (
        event.get("type") == "message" and event.get("channel_type") == "im"
    )
    if not wanted:
        return "ignored"
    if not chat.first_time(app, str(envelope.get("event_id") or "")):
        return "duplicate"
    text = _MENTION.sub("", str(event.get("text") or "")).strip()
    user = chat.identify(ChatApp.Kind.SLACK, external_id=str(event.get("user") or ""), email=_email(event))
    if user is None:
        return "unknown-sender"
    command = chat.parse_command(text)
    if command.action != "open":
        return "ignored"  # status and help: the slash command answers privately
    _queue_open(app, user.pk, command.argument)
    return "queued"


def handle_command(app: ChatApp, form: dict[str, str]) -> str:
    """The ``/ticket`` slash command; returns the ephemeral answer."""
    slack_user = form.get("user_id", "")
    name = form.get("command", "/ticket") or "/ticket"
    user = chat.identify(ChatApp.Kind.SLACK, external_id=slack_user, email=_email(form))
    if user is None:
        return chat.unknown_sender_answer(ChatApp.Kind.SLACK, slack_user)
    command = chat.parse_command(form.get("text", ""))
    if command.action in ("approvals", "approve", "reject"):
        return chat.approval_answer(ChatApp.Kind.SLACK, external_id=slack_user, command=command)
    if command.action == "status":
        return chat.status_answer(user, command.argument)
    if command.action == "help":
        return chat.help_answer(user, command=name)
    _queue_open(app, user.pk, command.argument, form.get("response_url", ""))
    return chat.acknowledgement(user)


# the buttons of an approval request (``palier/changes/chat_approvals.py`` builds the message)
APPROVAL_ACTIONS = {"approval_approve": "approve", "approval_reject": "reject"}


def handle_interaction(app: ChatApp, payload: dict[str, Any]) -> str:
    """A button clicked in Slack; the answer goes back to the message's ``response_url``."""
    action = payload["actions"][0] if payload["actions"] else {}
    user_id = str((payload.get("user") or {}).get("id") or "")
    if not isinstance(action, dict) or action.get("action_id") not in APPROVAL_ACTIONS:
        return "ignored"
    if not chat.approval_handlers:
        return "ignored"
    command = chat.Command(APPROVAL_ACTIONS[str(action["action_id"])], f"#{str(action.get('value') or '')[:20]}")
    answer = chat.approval_answer(ChatApp.Kind.SLACK, external_id=user_id, command=command)
    reply_to = str(payload.get("response_url") or "")
    if outbound.slack_response_url_allowed(reply_to):
        outbound.post_later(reply_to, {"replace_original": True, "text": answer})
    return "answered"
