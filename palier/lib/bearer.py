"""Browser middleware that a request to the API with a bearer token skips (docs/performance.md,
"Per-request overhead").

A request to ``/api/`` with an ``Authorization: Bearer …`` header is authenticated by its token
alone: the API tries the token first and answers 401 for a wrong one, never falling back to the
session (``palier/api/auth.py``). The session, the session's user, messages, the session policy,
the second step of a half-signed-in session and htmx therefore have nothing to do for it, yet
each cost CPU on every request. ``MIDDLEWARE`` names them through :func:`unless_bearer`, which
passes such requests straight to the next middleware; every other request (pages, the API used
by the browser with its session) goes through them as before. The language still follows
``Accept-Language`` (``LocaleMiddleware`` is not skipped) or the token owner's setting
(``TokenAuth``). CSRF and the sign-in lockout keep their own names in ``MIDDLEWARE`` (Django's
deploy check and axes' check look for them); neither does work for such a request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.module_loading import import_string

API_PREFIX = "/api/"

Handler = Callable[[HttpRequest], HttpResponseBase]


def is_bearer_api_request(request: HttpRequest) -> bool:
    """An API request that carries a bearer token, as the API's token auth reads the header."""
    if not request.path_info.startswith(API_PREFIX):
        return False
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    return header.split(" ", 1)[0].lower() == "bearer"


def unless_bearer(dotted_path: str) -> type:
    """A middleware class running the middleware at ``dotted_path`` for every request except a
    bearer-token API request, which goes straight to the next middleware. Django's view, exception
    and template-response hooks of the wrapped middleware are kept, skipped the same way."""
    inner_class = import_string(dotted_path)

    class UnlessBearer:
        wrapped = dotted_path

        def __init__(self, get_response: Handler) -> None:
            self.get_response = get_response
            self.inner = inner_class(get_response)
            for hook in ("process_view", "process_exception", "process_template_response"):
                if hasattr(self.inner, hook):
                    setattr(self, hook, _skipping(getattr(self.inner, hook)))

        def __call__(self, request: HttpRequest) -> HttpResponseBase:
            if is_bearer_api_request(request):
                return self.get_response(request)
            return self.inner(request)  # type: ignore[no-any-return]

    UnlessBearer.__name__ = UnlessBearer.__qualname__ = f"UnlessBearer[{inner_class.__name__}]"
    return UnlessBearer


def _skipping(hook: Callable[..., Any]) -> Callable[..., Any]:
    def skipping(request: HttpRequest, *args: Any) -> Any:
        return None if is_bearer_api_request(request) else hook(request, *args)

    return skipping


class BearerUserMiddleware:
    """In place of ``AuthenticationMiddleware`` for bearer-token API requests: ``request.user`` is
    anonymous until the token is checked (``TokenAuth`` sets the token's owner), as without a
    session cookie; other requests get the session's user from ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_bearer_api_request(request):
            request.user = AnonymousUser()
        return self.get_response(request)
