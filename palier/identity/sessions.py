"""The session lifetime and idle timeout of the sign-in policy (``session_hours``, ``idle_minutes``).

``SessionPolicyMiddleware`` runs after Django's authentication. Most requests only compare the
times the session carries (``people.sessions.STATE``) with the clock: no query. At most once a
minute per session it reads the policy again (one small query), stores the new limits in the
session and notes the session as seen (one UPDATE of its ``UserSession`` row); a session whose row
is gone was ended elsewhere and is signed out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.identity import policy
from palier.people import sessions

HOUR = 3600


def expired(state: dict[str, Any], now: float) -> str:
    """Why the session must end now ("lifetime", "idle"), or ""."""
    ends = float(state.get("ends") or 0)
    idle = float(state.get("idle") or 0)
    if ends and now >= ends:
        return "lifetime"
    # "seen" is written at most once a minute, so it may lag the last request by that much:
    # the idle limit counts from it plus that minute (a session ends 0 to 60 s after the limit)
    if idle and now - float(state.get("seen") or now) >= idle + sessions.TOUCH_SECONDS:
        return "idle"
    return ""


def refresh(request: HttpRequest, state: dict[str, Any], now: float) -> str:
    """Read the policy again, store its limits and touch the session row; why it ends, or ""."""
    rules = policy.current()
    started = float(state.get("started") or now)
    state["ends"] = started + rules.session_hours * HOUR if rules.session_hours else 0
    state["idle"] = rules.idle_minutes * 60
    reason = expired(state, now)
    if reason:
        return reason
    key = request.session.session_key
    if key is None or not sessions.touch(key, now=now):
        return "ended"
    state["seen"] = now
    request.session[sessions.STATE] = state
    return ""


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) is not None:
            self.check(request)
        return self.get_response(request)

    def check(self, request: HttpRequest) -> None:
        now = timezone.now().timestamp()  # the clock the session's start was noted with
        state = request.session.get(sessions.STATE)
        if state is None:  # a session from before tracking (or a test's force_login): track it from now
            if request.user.is_authenticated:
                sessions.start(request, request.user)
            return
        reason = expired(state, now)
        if not reason and now - float(state.get("seen") or 0) >= sessions.TOUCH_SECONDS:
            reason = refresh(request, dict(state), now)
        if reason:
            logout(request)
            if reason != "ended" and hasattr(request, "_messages"):
                messages.info(request, _("Your session has ended. Please sign in again."))
