"""OAuth2 access tokens for IMAP (SASL XOAUTH2).

- Microsoft 365: the client-credentials flow of ``msal`` (an app registration with the
  ``IMAP.AccessAsApp`` permission and a mailbox permission granted to its service principal);
  the client secret is stored encrypted on the mailbox, or read from a ``PALIER_SECRET_…``
  environment variable (``secrets.py``).
- Google Workspace: a service account with domain-wide delegation (scope
  ``https://mail.google.com/``), impersonating the mailbox user; its JSON key is stored encrypted
  on the mailbox, or a ``PALIER_SECRET_…`` environment variable holds the key file's path.

Tokens are cached per process until shortly before they expire. Every failure raises
``OAuthError`` with a message an admin can act on; the poller records it as the mailbox's error.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.utils.translation import gettext as _

from palier.mail import secrets
from palier.mail.models import Mailbox

MICROSOFT_AUTHORITY = "https://login.microsoftonline.com"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
EXPIRY_MARGIN_SECONDS = 120  # a token this close to its end is renewed before use
HTTP_TIMEOUT_SECONDS = 20


class OAuthError(Exception):
    """No access token: wrong secret, unknown tenant, missing key file, provider unreachable."""


@dataclass(frozen=True)
class _Cached:
    token: str
    expires_at: float


_cache: dict[tuple[str, ...], _Cached] = {}
_lock = threading.Lock()


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft document it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _key(mailbox: Mailbox, user: str) -> tuple[str, ...]:
    return (
        mailbox.oauth_provider, mailbox.oauth_tenant, mailbox.oauth_client_id, mailbox.oauth_secret_env,
        mailbox.oauth_secret_encrypted, user,
    )  # fmt: skip


def forget(mailbox: Mailbox, user: str) -> None:
    """Drop the cached token (the server refused it: revoked, or rights changed)."""
    with _lock:
        _cache.pop(_key(mailbox, user), None)


def access_token(mailbox: Mailbox, user: str) -> str:
    """A valid access token for ``user`` on this mailbox's provider (cached until near expiry)."""
    key = _key(mailbox, user)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and cached.expires_at - EXPIRY_MARGIN_SECONDS > time.time():
        return cached.token
    if mailbox.oauth_provider == Mailbox.OAuthProvider.MICROSOFT:
        token, lifetime = _microsoft(mailbox)
    elif mailbox.oauth_provider == Mailbox.OAuthProvider.GOOGLE:
        token, lifetime = _google(mailbox, user)
    else:
        raise OAuthError(_("Unknown OAuth2 provider %(provider)r.") % {"provider": mailbox.oauth_provider})
    with _lock:
        _cache[key] = _Cached(token=token, expires_at=time.time() + lifetime)
    return token


def _secret(mailbox: Mailbox) -> str:
    """The stored secret, else the ``PALIER_SECRET_…`` variable's (any other name is refused)."""
    try:
        return mailbox.get_oauth_secret()
    except secrets.SecretError as exc:
        raise OAuthError(str(exc)) from exc


def _microsoft(mailbox: Mailbox) -> tuple[str, float]:
    import msal  # type: ignore[import-untyped]

    if not mailbox.oauth_tenant or not mailbox.oauth_client_id:
        raise OAuthError(_("Microsoft 365 needs a tenant and a client id."))
    try:
        app = msal.ConfidentialClientApplication(
            mailbox.oauth_client_id,
            authority=f"{MICROSOFT_AUTHORITY}/{mailbox.oauth_tenant}",
            client_credential=_secret(mailbox),
            instance_discovery=False,
            timeout=HTTP_TIMEOUT_SECONDS,
        )
        result: dict[str, Any] = app.acquire_token_for_client(scopes=[MICROSOFT_SCOPE]) or {}
    except OAuthError:
        raise
    except Exception as exc:  # unreachable authority, unknown tenant (discovery fails)...
        raise OAuthError(_("Microsoft 365 sign-in failed: %(error)s") % {"error": exc}) from exc
    token = result.get("access_token")
    if not token:
        detail = result.get("error_description") or result.get("error") or _("no token in the answer")
        raise OAuthError(_("Microsoft 365 refused the token: %(error)s") % {"error": str(detail).splitlines()[0]})
    return str(token), float(result.get("expires_in") or 3600)


def _google(mailbox: Mailbox, user: str) -> tuple[str, float]:
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    secret = _secret(mailbox)
    try:
        if mailbox.oauth_secret_encrypted:  # the JSON key itself, stored encrypted
            credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                json.loads(secret), scopes=[GOOGLE_SCOPE], subject=user
            )
        else:  # the variable holds the key file's path
            credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                secret, scopes=[GOOGLE_SCOPE], subject=user
            )
    except (OSError, ValueError, KeyError) as exc:
        # the error names the problem, never the key's content
        raise OAuthError(
            _("The Google service account key cannot be read: %(error)s") % {"error": type(exc).__name__}
        ) from exc
    try:
        credentials.refresh(Request())
    except Exception as exc:  # google.auth.exceptions.RefreshError, TransportError
        raise OAuthError(_("Google refused the token: %(error)s") % {"error": exc}) from exc
    if not credentials.token:
        raise OAuthError(_("Google answered without a token."))
    lifetime = 3600.0
    if credentials.expiry is not None:
        expiry = credentials.expiry.replace(tzinfo=UTC)  # google-auth keeps naive UTC datetimes
        lifetime = max(0.0, expiry.timestamp() - time.time())
    return str(credentials.token), lifetime
