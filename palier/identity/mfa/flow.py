"""What a fresh session must still do before it is fully signed in.

At every sign-in (Django's ``user_logged_in`` signal, wired in ``palier/events.py``) the session
gets one of these states under ``SESSION_KEY``:

- ``ok``: nothing to ask (no factor and none required, a remembered browser, a provider that
  asserted its own second factor, or the second step is done);
- ``verify``: the person has a factor: only the second-step page opens until it is used;
- ``offer``: their role requires a factor they do not have, within the grace period: they are
  asked to set one up and may skip;
- ``enrol``: the same after the grace period: nothing else opens until they have one.

The middleware (``middleware.py``) enforces it; a session without the key (opened before this
existed) gets its state at its first request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from palier.identity import policy
from palier.identity.mfa import selectors, services
from palier.identity.mfa.models import MfaState
from palier.identity.provisioning import MFA_BY_PROVIDER_SESSION_KEY
from palier.people import sessions
from palier.people.models import User

SESSION_KEY = "palier_mfa"
OK, VERIFY, OFFER, ENROL = "ok", "verify", "offer", "enrol"
REMEMBER_COOKIE = "palier_mfa_remember"
_REMEMBER_SALT = "palier.identity.mfa.remember"


def grace_ends(user: User) -> Any:
    """When the person must have a factor (None: not required)."""
    state = MfaState.objects.filter(user=user).first()
    if state is None or state.required_since is None or not selectors.required_for(user):
        return None
    return state.required_since + timedelta(days=policy.current().mfa_grace_days)


def state_at_sign_in(request: HttpRequest, user: User) -> str:
    if request.session.get(MFA_BY_PROVIDER_SESSION_KEY):
        return OK
    if selectors.has_factor(user):
        return OK if remembered(request, user) else VERIFY
    rules = policy.current()
    state = MfaState.objects.filter(user=user).first()
    if user.role not in (rules.mfa_required_roles or []):
        if state is not None and state.required_since is not None:
            MfaState.objects.filter(pk=state.pk).update(required_since=None)
        return OK
    now = timezone.now()
    if state is None or state.required_since is None:
        state = services.state_for(user)
        MfaState.objects.filter(pk=state.pk).update(required_since=now)
        state.required_since = now
    assert state.required_since is not None
    return OFFER if now < state.required_since + timedelta(days=rules.mfa_grace_days) else ENROL


def on_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: the state of the new session."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = state_at_sign_in(request, user)


def current(request: HttpRequest) -> str:
    """The state of a signed-in session (worked out now for a session opened before)."""
    state = request.session.get(SESSION_KEY)
    if state != OK and request.session.get(MFA_BY_PROVIDER_SESSION_KEY):
        state = OK  # the provider asserted its own second factor (set just after the sign-in signal)
        request.session[SESSION_KEY] = state
    if state not in (OK, VERIFY, OFFER, ENROL):
        state = state_at_sign_in(request, request.user)  # type: ignore[arg-type]
        request.session[SESSION_KEY] = state
    return str(state)


def done(request: HttpRequest) -> None:
    """The second step is done (or skipped within the grace period): a new session key, so a
    session id seen before the second factor is worth nothing after it."""
    old_key = request.session.session_key
    request.session.cycle_key()
    sessions.rekey(old_key, request.session.session_key)  # the person's list of sessions follows
    request.session[SESSION_KEY] = OK


# --- remember this browser -------------------------------------------------------------------------


def _remember_value(user: User) -> str:
    return f"{user.pk}:{selectors.generation(user)}"


def remember(response: HttpResponse, user: User) -> None:
    """A signed, HttpOnly cookie that skips the second step in this browser for the policy's days,
    for this person and their current factors only."""
    days = policy.current().mfa_remember_days
    if days <= 0:
        return
    response.set_signed_cookie(
        REMEMBER_COOKIE,
        _remember_value(user),
        salt=_REMEMBER_SALT,
        max_age=days * 86400,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def remember_days() -> int:
    return int(policy.current().mfa_remember_days)


def remembered(request: HttpRequest, user: User) -> bool:
    days = policy.current().mfa_remember_days
    if days <= 0:
        return False
    try:
        value = request.get_signed_cookie(REMEMBER_COOKIE, salt=_REMEMBER_SALT, max_age=days * 86400)
    except (KeyError, signing.BadSignature):
        return False
    return bool(value == _remember_value(user))
