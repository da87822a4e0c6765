"""The address of the request being served, for the audit events its services record.

``AuditContextMiddleware`` sets it for each request; services deep below the interfaces (people,
tokens, exports) record events without being handed the request. Outside a request (commands,
workers) there is no address.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_ip: ContextVar[str | None] = ContextVar("palier_audit_ip", default=None)


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address as the server saw it (``REMOTE_ADDR``; a trusted proxy sets it)."""
    value = request.META.get("REMOTE_ADDR") or None
    return str(value)[:45] if value else None


def current_ip() -> str | None:
    return _ip.get()


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _ip.reset(token)
