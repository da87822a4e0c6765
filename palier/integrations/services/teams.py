"""Microsoft Teams outgoing webhook: "@Palier my printer is jammed" or "@Palier status INC-1042".

Teams waits five seconds for the answer: help is answered at once, opening a ticket is queued and
the new ticket is announced in the channel (the app's notification URL). The answer goes to the
whole channel, so a ticket's status is not given there (Slack's slash command answers privately).
"""

from __future__ import annotations

import html
import re
from typing import Any

from django.db import transaction

from palier.integrations.models import ChatApp
from palier.integrations.services import chat

_AT = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def message_text(raw: str) -> str:
    """The text without the bot mention and markup."""
    return html.unescape(_TAG.sub(" ", _AT.sub(" ", raw))).replace("\xa0", " ").strip()


def _sender(activity: dict[str, Any]) -> tuple[str, str]:
    sender = activity.get("from") or {}
    email = sender.get("email") or sender.get("userPrincipalName") or ""
    return str(sender.get("aadObjectId") or ""), str(email)


def handle_activity(app: ChatApp, activity: dict[str, Any]) -> str | None:
    """One message activity; returns the text of the reply, or ``None`` when this activity id was
    already received (a replay: the signature and timestamp alone would let it through again).

    The reply is posted in the channel, where everyone reads it: a ticket's status is never
    answered there."""
    if not chat.first_time(app, str(activity.get("id") or "")):
        return None
    aad_id, email = _sender(activity)
    locale = str(activity.get("locale") or "")
    user = chat.identify(ChatApp.Kind.TEAMS, external_id=aad_id, email=email)
    if user is None:
        return chat.unknown_sender_answer(ChatApp.Kind.TEAMS, aad_id or "?", fallback_language=locale)
    command = chat.parse_command(message_text(str(activity.get("text") or "")))
    if command.action in ("approvals", "approve", "reject"):
        return chat.approval_answer(ChatApp.Kind.TEAMS, external_id=aad_id, command=command, fallback_language=locale)
    if command.action == "status":
        return chat.not_in_a_channel_answer(user)
    if command.action == "help":
        return chat.help_answer(user, command="@Palier", status=False)
    from palier.integrations.tasks import open_chat_ticket_task

    text = command.argument
    transaction.on_commit(lambda: open_chat_ticket_task.enqueue(app.pk, user.pk, text, ""))
    return chat.acknowledgement(user)
