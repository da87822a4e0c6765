"""Who is calling the bot's endpoint: the Bot Framework's JWT, checked as Microsoft documents
("Authenticate requests from the Bot Connector service to your bot").

- ``Authorization: Bearer <JWT>``, signed RS256 by a key published in the JWKS that the OpenID
  metadata (``PALIER_TEAMS_OPENID_METADATA``) points to; a key listing endorsements must endorse
  the activity's ``channelId``;
- issuer ``https://api.botframework.com``, audience the bot's application id, ``exp`` (and ``nbf``
  when present) within five minutes of clock skew;
- its ``serviceUrl`` claim equal to the activity's ``serviceUrl``, itself one of
  ``PALIER_TEAMS_ALLOWED_SERVICE_URLS`` (Palier writes its replies there).

Anything else raises ``Refused`` (the endpoint answers 401 and stores nothing). The signing keys
are cached for a day; a token naming a key not in the cache fetches them again, at most once per
``REFRESH_INTERVAL`` (a flood of forged key ids does not become a flood of requests to Microsoft).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

log = logging.getLogger(__name__)

ISSUER = "https://api.botframework.com"
SKEW = 300  # seconds of clock skew accepted on exp and nbf
KEYS_TTL = 24 * 3600
REFRESH_INTERVAL = 300  # at most one fetch of unknown keys per five minutes
EMPTY_RETRY = 30  # while no key could be fetched yet (Microsoft unreachable at start-up)
TIMEOUT = 5.0
MAX_TOKEN = 8192


class Refused(Exception):
    """The request does not prove it comes from the Bot Framework for this bot."""


@dataclass
class _Keys:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # kid -> JWK (with its endorsements)
    fetched_at: float = 0.0
    tried_at: float = 0.0


_cache: dict[str, _Keys] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _fetch(metadata_url: str) -> dict[str, dict[str, Any]]:
    metadata = requests.get(metadata_url, timeout=TIMEOUT)
    metadata.raise_for_status()
    jwks_uri = metadata.json().get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
        raise ValueError("the OpenID metadata has no jwks_uri")
    answer = requests.get(jwks_uri, timeout=TIMEOUT)
    answer.raise_for_status()
    keys = answer.json().get("keys")
    if not isinstance(keys, list):
        raise ValueError("the JWKS has no keys")
    return {str(k["kid"]): k for k in keys if isinstance(k, dict) and k.get("kty") == "RSA" and k.get("kid")}


def signing_key(kid: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The published key ``kid`` (a JWK dict), fetching the keys when stale or when ``kid`` is
    unknown (rate-limited); ``None`` when no published key has that id."""
    now = time.time() if now is None else now
    url = settings.PALIER_TEAMS_OPENID_METADATA
    with _lock:
        entry = _cache.setdefault(url, _Keys())
        stale = now - entry.fetched_at > KEYS_TTL
        unknown = kid not in entry.keys
        interval = REFRESH_INTERVAL if entry.keys else EMPTY_RETRY  # no key at all: try again sooner
        if (stale or unknown) and now - entry.tried_at >= interval:
            entry.tried_at = now
            try:
                entry.keys = _fetch(url)
                entry.fetched_at = now
            except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
                log.warning("Teams bot: the signing keys could not be fetched from %s: %s", url, exc)
        return entry.keys.get(kid)


def _service_url_allowed(url: str) -> bool:
    return any(url.startswith(prefix) for prefix in settings.PALIER_TEAMS_ALLOWED_SERVICE_URLS)


def service_url_allowed(url: str) -> bool:
    """Is ``url`` a Bot Connector address Palier may write to?"""
    return isinstance(url, str) and _service_url_allowed(url)


def verify(*, authorization: str, activity: dict[str, Any], app_id: str, now: float | None = None) -> dict[str, Any]:
    """The token's claims when ``authorization`` proves the Bot Framework sent ``activity`` to the
    bot ``app_id``; raises ``Refused`` otherwise."""
    now = time.time() if now is None else now
    if not app_id:
        raise Refused("This app has no bot application id.")
    scheme, _sp, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value or len(value) > MAX_TOKEN or not value.isascii():
        raise Refused("A Bot Framework token is required (Authorization: Bearer <JWT>).")
    try:
        header = extract_compact(value.encode("ascii")).protected
    except (JoseError, ValueError, TypeError) as exc:
        raise Refused("The token is not a JWT.") from exc
    if header.get("alg") != "RS256":
        raise Refused("The token must be signed with RS256.")
    published = signing_key(str(header.get("kid") or ""), now=now)
    if published is None:
        raise Refused("The token is not signed by a published Bot Framework key.")
    channel = str(activity.get("channelId") or "")
    endorsements = published.get("endorsements")
    if isinstance(endorsements, list) and channel not in endorsements:
        raise Refused("The signing key does not endorse this channel.")
    try:
        key = KeySet.import_key_set({"keys": [{k: v for k, v in published.items() if k != "endorsements"}]})
        token = jwt.decode(value, key, algorithms=["RS256"])
        registry = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=SKEW,
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": app_id},
            exp={"essential": True},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise Refused(f"The token is not valid for this bot: {type(exc).__name__}.") from exc
    claims = token.claims
    service_url = activity.get("serviceUrl")
    if not isinstance(service_url, str) or claims.get("serviceUrl") != service_url:
        raise Refused("The token's serviceUrl is not the activity's.")
    if not _service_url_allowed(service_url):
        raise Refused("The activity's serviceUrl is not an allowed Bot Connector address.")
    return claims
