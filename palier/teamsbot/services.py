"""The Teams bot's entry points: an authenticated activity received, and a person confirming, signed
in to Palier, that their Teams account is theirs.

``receive`` stores the raw activity first (``ChatEvent``, keyed by its conversation and id: a
replay changes nothing), remembers the personal conversation so Palier can write to the person
later, then hands the activity to ``conversation.handle``. Replies are queued in the outbox
(``connector.queue``) and sent by a worker: the request itself only reads and writes the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.integrations.models import ChatApp, ChatEvent, ChatIdentity
from palier.lib.errors import Conflict
from palier.people.models import User
from palier.teamsbot.models import Conversation

LINK_SALT = "palier.teamsbot.link"
LINK_MAX_AGE = 3600  # seconds a confirmation link stays valid


class BadActivity(ValueError):
    """The activity lacks what the Bot Framework always sends."""


@dataclass
class Received:
    outcome: str  # "handled", "replay", "ignored"
    invoke: dict[str, Any] | None = None  # the body of an invoke's answer
    replies: list[dict[str, Any]] = field(default_factory=list)


def _string(data: dict[str, Any], *path: str) -> str:
    value: Any = data
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def check_shape(activity: dict[str, Any]) -> None:
    for path in (("type",), ("id",), ("serviceUrl",), ("conversation", "id"), ("from", "id")):
        if not _string(activity, *path):
            raise BadActivity(f"The activity has no {'.'.join(path)}.")
    if len(_string(activity, "conversation", "id")) > 500 or len(_string(activity, "id")) > 200:
        raise BadActivity("The activity's ids are too long.")


def event_key(activity: dict[str, Any]) -> str:
    """Activity ids are unique within a conversation: the key is both, hashed to a fixed length."""
    raw = f"{_string(activity, 'conversation', 'id')}|{_string(activity, 'id')}"
    return "bf:" + hashlib.sha256(raw.encode()).hexdigest()


def store(app: ChatApp, activity: dict[str, Any]) -> bool:
    """Keep the raw activity; False when it was already received (a replay or a retry)."""
    try:
        with transaction.atomic():
            ChatEvent.objects.create(app=app, event_id=event_key(activity), payload=activity)
    except IntegrityError:
        return False
    return True


def remember_conversation(app: ChatApp, activity: dict[str, Any]) -> Conversation | None:
    """The personal conversation of the sender (created or brought up to date); ``None`` in a
    channel or group chat, or without an Entra ID object id."""
    if _string(activity, "conversation", "conversationType") not in ("", "personal"):
        return None
    aad = _string(activity, "from", "aadObjectId")[:100]
    if not aad:
        return None
    fields = {
        "service_url": _string(activity, "serviceUrl")[:300],
        "conversation_id": _string(activity, "conversation", "id")[:500],
        "member_id": _string(activity, "from", "id")[:200],
        "tenant_id": (
            _string(activity, "conversation", "tenantId") or _string(activity, "channelData", "tenant", "id")
        )[:100],
    }
    conversation = Conversation.objects.filter(app=app, aad_object_id=aad).first()
    if conversation is None:
        try:
            with transaction.atomic():
                return Conversation.objects.create(app=app, aad_object_id=aad, **fields)
        except IntegrityError:
            conversation = Conversation.objects.get(app=app, aad_object_id=aad)
    changed = [name for name, value in fields.items() if getattr(conversation, name) != value]
    if changed:
        for name in changed:
            setattr(conversation, name, fields[name])
        conversation.updated_at = timezone.now()
        conversation.save(update_fields=[*changed, "updated_at"])
    return conversation


def receive(app: ChatApp, activity: dict[str, Any]) -> Received:
    """One activity whose token was checked: stored, then handled."""
    from palier.teamsbot import conversation as flows

    check_shape(activity)
    if not store(app, activity):
        return Received("replay")
    with transaction.atomic():
        return flows.handle(app, activity, remember_conversation(app, activity))


# --- linking a Teams account to a Palier account ---------------------------------------------------------


def link_url(app: ChatApp, aad_object_id: str) -> str:
    """The one-time address where the person, signed in to Palier, confirms their Teams account."""
    token = signing.dumps({"app": app.pk, "aad": aad_object_id}, salt=LINK_SALT, compress=True)
    return settings.PALIER_BASE_URL + reverse("teams:link", args=[token])


def read_link(token: str) -> tuple[ChatApp, str] | None:
    """The app and the object id a link names, when it is genuine and recent."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("aad"), str) or not data["aad"]:
        return None
    app = ChatApp.objects.filter(pk=int(data.get("app") or 0), kind=ChatApp.Kind.TEAMS, is_active=True).first()
    return (app, data["aad"]) if app is not None else None


CODE_MINUTES = 10
CODE_TRIES = 5


@transaction.atomic
def confirm_link(token: str, *, user: User) -> str:
    """First step of linking the Teams account a confirmation link names to ``user`` (the signed-in
    person): returns a code the person types in their chat with the bot (``complete_link``). The
    code proves that whoever confirms in Palier also holds the Teams account: a link sent to
    someone else by its owner links nothing. An account already linked stays with its owner."""
    named = read_link(token)
    if named is None:
        raise PermissionDenied(_("This link is not valid any more. Write to the bot again to get a new one."))
    app, aad = named
    existing = ChatIdentity.objects.filter(kind=ChatApp.Kind.TEAMS, external_id=aad).first()
    if existing is not None:
        if existing.user_id == user.pk:
            return ""
        raise Conflict(_("This Teams account is already linked to another Palier account."))
    conversation = Conversation.objects.select_for_update().filter(app=app, aad_object_id=aad).first()
    if conversation is None:
        raise PermissionDenied(_("This link is not valid any more. Write to the bot again to get a new one."))
    code = f"{secrets.randbelow(10**6):06d}"
    conversation.pending_user, conversation.pending_code = user, code
    conversation.pending_at, conversation.pending_tries = timezone.now(), 0
    conversation.save(update_fields=["pending_user", "pending_code", "pending_at", "pending_tries"])
    return code


def complete_link(conversation: Conversation, text: str) -> User | None:
    """The code typed in Teams: the account waiting for it, now linked; ``None`` otherwise (a wrong
    code counts, five end the wait)."""
    row = Conversation.objects.select_for_update().get(pk=conversation.pk)  # PostgreSQL: no outer join under FOR UPDATE
    user = row.pending_user
    if user is None or row.pending_at is None:
        return None
    if timezone.now() - row.pending_at > timedelta(minutes=CODE_MINUTES) or not user.is_active:
        _clear_pending(row)
        return None
    if not hmac.compare_digest(text.strip().encode(), row.pending_code.encode()):
        row.pending_tries += 1
        if row.pending_tries >= CODE_TRIES:
            _clear_pending(row)
        else:
            row.save(update_fields=["pending_tries"])
        return None
    try:
        with transaction.atomic():
            identity = ChatIdentity.objects.create(kind=ChatApp.Kind.TEAMS, external_id=row.aad_object_id, user=user)
    except IntegrityError:
        _clear_pending(row)
        return None
    audit.record("chat_identity.confirmed", actor=user, target=identity, changes={"user": user.email})
    _clear_pending(row, user=user)
    return user


def _clear_pending(row: Conversation, *, user: User | None = None) -> None:
    row.pending_user, row.pending_code, row.pending_at, row.pending_tries = None, "", None, 0
    fields = ["pending_user", "pending_code", "pending_at", "pending_tries"]
    if user is not None:
        row.user = user
        fields.append("user")
    row.save(update_fields=fields)
