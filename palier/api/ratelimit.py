"""Rate limits of the API: per token and per address, in fixed one-minute windows counted in the
Django cache (Redis when ``REDIS_URL`` is set, so every web process shares the counts; otherwise
each process's own memory). Over the limit the API answers 429 problem+json with Retry-After.

``PALIER_API_RATE_TOKEN`` and ``PALIER_API_RATE_ADDRESS`` are requests per minute; 0 turns the
limit off. Read on every request, so a test or an operator can change them without a restart.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from palier.api.auth import current_token

WINDOW = 60  # seconds


class _PerMinute(BaseThrottle, ABC):
    setting = ""
    scope = ""

    def __init__(self) -> None:
        self._local = threading.local()  # one instance serves every thread of the process

    @abstractmethod
    def ident(self, request: HttpRequest) -> str | None:
        """Who the request is counted for (None: not counted by this limit)."""

    def allow_request(self, request: HttpRequest) -> bool:
        limit = int(getattr(settings, self.setting, 0) or 0)
        ident = self.ident(request) if limit > 0 else None
        if ident is None:
            return True
        now = time.time()
        window = int(now // WINDOW)
        key = f"palier:api-rate:{self.scope}:{ident}:{window}"
        cache.add(key, 0, timeout=WINDOW * 2)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this one as the first
            cache.set(key, 1, timeout=WINDOW * 2)
            count = 1
        if count <= limit:
            return True
        self._local.wait = (window + 1) * WINDOW - now
        return False

    def wait(self) -> float | None:
        wait: float | None = getattr(self._local, "wait", None)
        return wait


class PerToken(_PerMinute):
    """Requests per minute of one personal token (sessions are counted per address only)."""

    setting = "PALIER_API_RATE_TOKEN"
    scope = "token"

    def ident(self, request: HttpRequest) -> str | None:
        token = current_token(request)
        return str(token.pk) if token is not None else None


class PerAddress(_PerMinute):
    """Requests per minute from one address, whatever the credentials."""

    setting = "PALIER_API_RATE_ADDRESS"
    scope = "address"

    def ident(self, request: HttpRequest) -> str | None:
        return request.META.get("REMOTE_ADDR") or None
