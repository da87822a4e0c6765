"""The Teams bot's entry points: an authenticated activity received, and a person confirming, signed
in to Palier, that their Teams account is theirs.

``receive`` stores the raw activity first (``ChatEvent``, keyed by its conversation and id: a
replay changes nothing), remembers the personal conversation so Palier can write to the person
later, then hands the activity to ``conversation.handle``. Replies are queued in the outbox
(``connector.queue``) and sent by a worker: the request itself only reads and writes the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
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


@transaction.atomic
def confirm_link(token: str, *, user: User) -> ChatIdentity:
    """Link the Teams account a confirmation link names to ``user`` (the signed-in person). Once:
    an account already linked stays with its owner."""
    named = read_link(token)
    if named is None:
        raise PermissionDenied(_("This link is not valid any more. Write to the bot again to get a new one."))
    app, aad = named
    existing = ChatIdentity.objects.filter(kind=ChatApp.Kind.TEAMS, external_id=aad).first()
    if existing is not None:
        if existing.user_id == user.pk:
            return existing
        raise Conflict(_("This Teams account is already linked to another Palier account."))
    try:
        with transaction.atomic():
            identity = ChatIdentity.objects.create(kind=ChatApp.Kind.TEAMS, external_id=aad, user=user)
    except IntegrityError as exc:
        raise Conflict(_("This Teams account is already linked to another Palier account.")) from exc
    audit.record("chat_identity.confirmed", actor=user, target=identity, changes={"user": user.email})
    conversation = Conversation.objects.filter(app=app, aad_object_id=aad).first()
    if conversation is not None:
        from palier.teamsbot import conversation as flows

        Conversation.objects.filter(pk=conversation.pk).update(user=user)
        flows.welcome_linked(conversation, user)
    return identity
