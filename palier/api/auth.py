"""Who is calling: a Django session (with CSRF on unsafe methods) or a personal bearer token.

Both return the ``User``. A read-only token may only use safe methods; only a session or a token
with the ``tokens`` scope creates tokens (``palier/api/people.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from palier.api.errors import Problem
from palier.people.models import ApiToken, User
from palier.people.services import authenticate_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer plr_…``: a wrong or revoked token answers 401, never falls back."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        found = authenticate_token(token.strip(), ip=request.META.get("REMOTE_ADDR") or None)
        if found is None:
            raise AuthenticationError()
        if not found.can_write and request.method not in SAFE_METHODS:
            raise Problem(403, _("This token is read-only; create a token with the write scope to change data."))
        user = found.user
        request.user = user
        request.api_token = found  # type: ignore[attr-defined]
        if user.language:
            translation.activate(user.language)
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods need the CSRF token (X-CSRFToken header)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if check_csrf(request) is not None:
            raise Problem(403, _("CSRF check failed. Reload the page and try again."))
        return "session"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if key is None or not isinstance(user, User) or not user.is_active:
            return None
        return user


def current_token(request: HttpRequest) -> ApiToken | None:
    """The bearer token of an API request, or None when it came with a session."""
    return getattr(request, "api_token", None)


def current_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (set by one of the auth classes above)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
