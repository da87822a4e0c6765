"""Sign-in throttling (django-axes) and the audit of sign-ins, failures and sign-outs.

Failed sign-ins count per account and per address (``AXES_LOCKOUT_PARAMETERS``): after
``PALIER_LOGIN_FAILURES`` failures either is locked for ``PALIER_LOGIN_LOCKOUT_MINUTES``, and
the lock doubles with every further ``PALIER_LOGIN_FAILURES`` failures of the last day (backoff,
at most a day). The count of the last day is read from the audit log, which keeps every failure
(``auth.login_failed``). The receivers below are connected by ``palier/events.py`` (``AUTH_SIGNALS``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from palier.audit import context
from palier.audit import services as audit
from palier.audit.models import AuditEvent
from palier.people import sessions

log = logging.getLogger("palier.signin")

MAX_LOCKOUT = timedelta(days=1)
_COOLOFF_ATTR = "_palier_cooloff"


class ThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """Refuses a locked-out account or address before any password is checked. Calls without a
    request (the test client's ``login``, scripts) are no sign-in from the web and pass through."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in names, as the counters and the audit log key it (case ignored)."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username", "")
    return str(value or "").strip().lower()[:254]


def recent_failures(*, email: str, ip: str | None, now: Any = None) -> int:
    """Failed sign-ins of the last day for this account or from this address (the larger count)."""
    since = (now or timezone.now()) - MAX_LOCKOUT
    failures = AuditEvent.objects.filter(action="auth.login_failed", at__gte=since)
    by_account = failures.filter(actor_email=email).count() if email else 0
    by_address = failures.filter(ip=ip).count() if ip else 0
    return max(by_account, by_address)


def cooloff(request: HttpRequest | None) -> timedelta:
    """How long a lock lasts: the base time, doubled for every further round of failures."""
    base = timedelta(minutes=settings.PALIER_LOGIN_LOCKOUT_MINUTES)
    if request is None:
        return base
    cached: timedelta | None = getattr(request, _COOLOFF_ATTR, None)
    if cached is None:
        limit = max(1, settings.PALIER_LOGIN_FAILURES)
        count = recent_failures(email=username(request, None), ip=context.client_ip(request))
        rounds = max(0, count // limit - 1)
        cached = min(base * (2 ** min(rounds, 16)), max(base, MAX_LOCKOUT))
        setattr(request, _COOLOFF_ATTR, cached)
    return cached


# --- the audit of sign-ins (Django's auth signals, connected by palier/events.py) ------------------


def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    ip = context.client_ip(request) if request is not None else None
    audit.record("auth.login", actor=user, target=user, ip=ip)
    if request is not None:
        sessions.start(request, user)


def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    ip = context.client_ip(request) if request is not None else None
    audit.record("auth.logout", actor=user, target=user, ip=ip)
    if request is not None and hasattr(request, "session"):
        sessions.forget(request.session.session_key)


def sign_in_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is None:  # not a sign-in from the web (the test client, a script)
        return
    email = username(request, credentials)
    ip = context.client_ip(request)
    locked = bool(getattr(request, "axes_locked_out", False))
    audit.record(
        "auth.login_failed",
        actor=None,
        actor_email=email,
        ip=ip,
        target_label="locked out" if locked else "",
    )
    if hasattr(request, _COOLOFF_ATTR):
        delattr(request, _COOLOFF_ATTR)  # one more failure: the lock may have grown
    log.warning("sign-in failed for %r from %s%s", email, ip or "?", " (locked out)" if locked else "")


def lockout_seconds(request: HttpRequest) -> int:
    return int(cooloff(request).total_seconds())


def clear_lock(*, email: str = "", ip: str | None = None) -> None:
    """Forget the counters of an account or an address (an administrator unlocks it)."""
    from axes.models import AccessAttempt

    q = Q(pk__in=[])
    if email:
        q |= Q(username=email.strip().lower())
    if ip:
        q |= Q(ip_address=ip)
    AccessAttempt.objects.filter(q).delete()
