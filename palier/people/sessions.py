"""Signed-in sessions, one ``UserSession`` row each: started at sign-in, seen at most once a minute,
ended by the person, by an administrator, by a password change or reset, or by deactivation.

Ending a session deletes it from Django's session store (the next request with its cookie is
signed out) and deletes its row; a session whose row is gone is signed out at its next touch too
(``touch`` answers False), which covers a store that cannot delete (signed cookies).

The session itself carries ``STATE`` (when it started, when it was last seen, when it must end,
its idle limit), so the lifetime and idle checks of ``identity/sessions.py`` need no query on most
requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from palier.audit import context
from palier.audit import services as audit
from palier.people import permissions
from palier.people.models import ApiToken, User, UserSession

STATE = "palier.session"  # {"started": epoch, "seen": epoch, "ends": epoch (0: never), "idle": seconds (0: never)}
TOUCH_SECONDS = 60


def _store(session_key: str) -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def start(request: HttpRequest, user: User, *, now: float | None = None) -> UserSession | None:
    """Track the session ``request`` just signed in with (the sign-in signal calls it)."""
    session = getattr(request, "session", None)
    if session is None or getattr(user, "pk", None) is None:
        return None
    if session.session_key is None:
        session.save()
    key = session.session_key
    moment = timezone.now() if now is None else _at(now)
    epoch = moment.timestamp()
    session[STATE] = {"started": epoch, "seen": epoch, "ends": 0, "idle": 0}
    agent = str(request.META.get("HTTP_USER_AGENT", ""))[:300]
    # sessions the store has expired by now (closed browsers never sign out): their rows go
    stale = moment - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    UserSession.objects.filter(user=user, last_seen_at__lt=stale).delete()
    row, _created = UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "created_at": moment,
            "last_seen_at": moment,
            "ip": context.client_ip(request),
            "user_agent": agent,
        },
    )
    return row


def touch(session_key: str, *, now: float) -> bool:
    """Note that the session was seen now. False when its row is gone: the session was ended."""
    return bool(UserSession.objects.filter(session_key=session_key).update(last_seen_at=_at(now)))


def rekey(old_key: str | None, new_key: str | None) -> None:
    """The session's key changed (Django cycles it after a password change): follow it."""
    if old_key and new_key and old_key != new_key:
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)


def forget(session_key: str | None) -> None:
    """The person signed out of this session: its row goes (the store is flushed by Django)."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def _end(keys: Iterable[str]) -> int:
    keys = list(keys)
    for key in keys:
        _store(key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


@transaction.atomic
def end_session(user: User, *, session_id: int, by: User) -> int:
    """End one session of ``user`` (the person themself, or an administrator)."""
    if not permissions.can(by, "edit_profile", user):
        return 0
    keys = list(UserSession.objects.filter(user=user, pk=session_id).values_list("session_key", flat=True))
    if keys:
        audit.record("auth.session_ended", actor=by, target=user, changes={"sessions": [None, 1]})
    return _end(keys)


@transaction.atomic
def end_sessions(user: User, *, by: User | None, keep: str | None = None, reason: str = "") -> int:
    """End every session of ``user`` but ``keep`` (a session key). Returns how many were ended.
    ``by`` is the person, an administrator, or None (Palier: a password reset, a deactivation)."""
    if by is not None and not permissions.can(by, "edit_profile", user):
        permissions.require(by)
    keys = list(
        UserSession.objects.filter(user=user).exclude(session_key=keep or "").values_list("session_key", flat=True)
    )
    if keys and reason:
        audit.record(reason, actor=by, target=user, changes={"sessions": [None, len(keys)]})
    return _end(keys)


def revoke_tokens(user: User) -> int:
    """Revoke every active API token of ``user`` (deactivation): one UPDATE."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def sessions_of(user: User, *, since: datetime | None = None) -> list[UserSession]:
    """The person's sessions, the most recently seen first (``since``: seen after it)."""
    rows = UserSession.objects.filter(user=user)
    if since is not None:
        rows = rows.filter(last_seen_at__gte=since)
    return list(rows.order_by("-last_seen_at", "-pk")[:50])
