"""Request ids and structured logs (docs/operations.md, "Logs").

``RequestIdMiddleware`` (first in the stack) gives every request an id: the ``X-Request-ID`` header
when a trusted proxy (``PALIER_TRUSTED_PROXIES``) sent a well-formed one, else a new random one. The
id is returned in the response's ``X-Request-ID`` header and kept in a context variable, so every
log line written while the request runs carries it, and tasks enqueued meanwhile carry it too
(``palier/lib/taskcontext.py``). The middleware writes one line per request (``palier.request``:
method, path, status, duration).

With ``PALIER_LOG_FORMAT=json`` the settings format every line with ``JsonFormatter``: one JSON
object per line with the time, level, logger, message, request id, user id, path, status and
duration when known. ``RequestContextFilter`` adds the request's fields to each record.
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import LazyObject, empty

HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("palier_request_id", default=None)
_request_var: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("palier_request", default=None)

access_logger = logging.getLogger("palier.request")


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def valid_request_id(value: str) -> bool:
    """A request id from outside is kept only when short and plain (no spaces, quotes or newlines
    that could forge log lines or headers)."""
    return bool(_VALID_ID.fullmatch(value))


def _trusted_peer(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in settings.PALIER_TRUSTED_PROXIES)


def incoming_id(request: HttpRequest) -> str | None:
    """The proxy's ``X-Request-ID``, when the peer is a trusted proxy and the value is well formed.
    Read before ``TrustedProxyMiddleware`` replaces ``REMOTE_ADDR`` with the client's address."""
    supplied = request.META.get("HTTP_X_REQUEST_ID", "")
    if not supplied or not valid_request_id(supplied):
        return None
    return supplied if _trusted_peer(request.META.get("REMOTE_ADDR", "")) else None


class RequestIdMiddleware:
    """First in the stack: the request id, its context for log lines, one access line per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = incoming_id(request) or new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        id_token = request_id_var.set(request_id)
        request_token = _request_var.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={"status": response.status_code, "duration_ms": duration_ms},
            )
            return response
        finally:
            _request_var.reset(request_token)
            request_id_var.reset(id_token)


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, only when the request already looked the user up (a log line
    never causes a session query)."""
    user = request.__dict__.get("user")
    if isinstance(user, LazyObject):
        user = user.__dict__.get("_wrapped", empty)
        if user is empty:
            return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int) else None


class RequestContextFilter(logging.Filter):
    """Adds ``request_id``, and while a request runs ``user_id`` and ``path``, to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        request = _request_var.get()
        if request is not None:
            if not hasattr(record, "path"):
                record.path = request.path
            if not hasattr(record, "user_id"):
                record.user_id = _user_id(request)
        return True


# the fields a JSON line carries beside time, level, logger and message, when the record has them
EXTRA_FIELDS = ("request_id", "user_id", "path", "status", "duration_ms", "task")


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``PALIER_LOG_FORMAT=json``)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)
