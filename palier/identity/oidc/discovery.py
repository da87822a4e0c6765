"""The provider's published metadata (``/.well-known/openid-configuration``) and signing keys
(JWKS), fetched with a timeout and cached for a few minutes, so a sign-in does not fetch them
every time. A key id the cached set does not know is fetched again once (the provider rotated
its keys)."""

from __future__ import annotations

import email.utils
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.core.cache import cache
from django.utils.translation import gettext as _
from joserfc.jwk import KeySet

TTL_SECONDS = 300
TIMEOUT_SECONDS = 10
REQUIRED = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderUnavailable(Exception):
    """The provider's metadata or keys could not be had; the message says why in plain words."""


@dataclass(frozen=True)
class Fetched:
    document: dict[str, Any]
    skew_seconds: float | None  # the provider's clock minus ours (from its Date header), when known


def _key(kind: str, url: str) -> str:
    return f"palier:oidc:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def same_issuer(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _get_json(url: str) -> tuple[dict[str, Any], float | None]:
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
    except requests.exceptions.SSLError as exc:
        raise ProviderUnavailable(
            _("The certificate of %(url)s is not trusted by this server: %(error)s") % {"url": url, "error": exc}
        ) from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable(_("%(url)s cannot be reached: %(error)s") % {"url": url, "error": exc}) from exc
    if response.status_code != 200:
        raise ProviderUnavailable(
            _("%(url)s answered with HTTP status %(status)s.") % {"url": url, "status": response.status_code}
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise ProviderUnavailable(_("%(url)s did not answer with JSON.") % {"url": url}) from exc
    if not isinstance(data, dict):
        raise ProviderUnavailable(_("%(url)s did not answer with a JSON object.") % {"url": url})
    skew = None
    if date := response.headers.get("Date"):
        try:
            skew = email.utils.parsedate_to_datetime(date).timestamp() - time.time()
        except (TypeError, ValueError):
            skew = None
    return data, skew


def fetch_metadata(issuer: str) -> Fetched:
    """The metadata, fetched now (not cached), checked: the issuer it names is the one configured
    (OpenID Connect Discovery, section 4.3) and the endpoints Palier needs are there."""
    url = discovery_url(issuer)
    document, skew = _get_json(url)
    missing = [name for name in REQUIRED if not isinstance(document.get(name), str) or not document.get(name)]
    if missing:
        raise ProviderUnavailable(
            _("The provider's metadata at %(url)s lacks %(names)s.") % {"url": url, "names": ", ".join(missing)}
        )
    if not same_issuer(document["issuer"], issuer):
        raise ProviderUnavailable(
            _("The provider calls itself %(found)s, not %(configured)s: enter the issuer exactly as its metadata says.")
            % {"found": document["issuer"], "configured": issuer}
        )
    cache.set(_key("discovery", issuer), document, TTL_SECONDS)
    return Fetched(document, skew)


def metadata(issuer: str) -> dict[str, Any]:
    """The metadata, from the cache when fetched in the last few minutes."""
    cached = cache.get(_key("discovery", issuer))
    if isinstance(cached, dict):
        return cached
    return fetch_metadata(issuer).document


def fetch_keys(jwks_uri: str) -> KeySet:
    data, _skew = _get_json(jwks_uri)
    try:
        keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError) as exc:
        raise ProviderUnavailable(
            _("The provider's signing keys at %(url)s are unreadable.") % {"url": jwks_uri}
        ) from exc
    if not keys.keys:
        raise ProviderUnavailable(_("The provider publishes no signing key at %(url)s.") % {"url": jwks_uri})
    cache.set(_key("jwks", jwks_uri), data, TTL_SECONDS)
    return keys


def keys(jwks_uri: str, *, fresh: bool = False) -> KeySet:
    cached = None if fresh else cache.get(_key("jwks", jwks_uri))
    if isinstance(cached, dict):
        return KeySet.import_key_set(cached)  # type: ignore[arg-type]
    return fetch_keys(jwks_uri)
