"""The authorization code flow with PKCE (Authlib's OAuth 2 client), the ID token's checks
(joserfc: signature with the provider's published keys, issuer, audience, expiry, nonce, with a
small clock skew allowance), userinfo when the ID token lacks a mapped claim, then the one
sign-in path of every provider (``provisioning.resolve_user`` and ``complete_sign_in``).

``state``, ``nonce`` and the PKCE verifier of each sign-in under way are kept in the person's
session under the state, used once, and expire after ten minutes; a callback whose state is not
there (tampered, replayed, from another browser) is refused before anything is sent anywhere."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.http import HttpRequest
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError

from palier.identity import provisioning
from palier.identity.models import Provider
from palier.identity.oidc import discovery, options
from palier.identity.provisioning import Claims, SignInRefused
from palier.mail import secrets as stored_secrets
from palier.people.models import User

PENDING_SESSION_KEY = "palier_oidc_pending"
ID_TOKEN_SESSION_KEY = "palier_oidc_id_token"
PENDING_SECONDS = 600
MAX_PENDING = 5
# clock skew allowed between Palier and the provider for exp, iat and nbf
LEEWAY_SECONDS = 120
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]


@dataclass(frozen=True)
class SignedIn:
    user: User
    next_url: str


def client_secret(provider: Provider) -> str:
    if provider.secret_env:
        return stored_secrets.from_environment(provider.secret_env)
    return stored_secrets.decrypt(provider.secret)


def _client(provider: Provider, *, secret: str = "") -> OAuth2Session:
    return OAuth2Session(
        client_id=options.option(provider, "client_id"),
        client_secret=secret,
        token_endpoint_auth_method=options.option(provider, "token_endpoint_auth_method"),
        scope=options.option(provider, "scopes"),
        redirect_uri=options.redirect_uri(provider),
        code_challenge_method="S256",
        default_timeout=discovery.TIMEOUT_SECONDS,
    )


def _unavailable(exc: Exception) -> SignInRefused:
    return SignInRefused(
        "provider_unavailable", _("The identity provider cannot be reached: %(error)s") % {"error": exc}
    )


def begin(request: HttpRequest, provider: Provider, *, next_url: str) -> str:
    """The provider's authorization address for a new sign-in; its state, nonce and PKCE verifier
    are kept in the session. Raises ``SignInRefused`` when the provider cannot be used."""
    if not provider.enabled or provider.kind != Provider.Kind.OIDC:
        raise SignInRefused("provider_disabled", _("This sign-in method is switched off."))
    try:
        endpoint = discovery.metadata(options.option(provider, "issuer"))["authorization_endpoint"]
    except discovery.ProviderUnavailable as exc:
        raise _unavailable(exc) from exc
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    url, _state = _client(provider).create_authorization_url(endpoint, state=state, code_verifier=verifier, nonce=nonce)
    now = time.time()
    pending = {
        key: value
        for key, value in (request.session.get(PENDING_SESSION_KEY) or {}).items()
        if now - value.get("at", 0) < PENDING_SECONDS
    }
    kept = sorted(pending.items(), key=lambda item: item[1]["at"])[-(MAX_PENDING - 1) :]
    request.session[PENDING_SESSION_KEY] = {
        **dict(kept),
        state: {"provider": provider.slug, "nonce": nonce, "verifier": verifier, "next": next_url, "at": now},
    }
    return str(url)


def _take_pending(request: HttpRequest, provider: Provider, state: str) -> dict[str, Any]:
    """The sign-in this state started, removed from the session (a state is good once)."""
    pending = dict(request.session.get(PENDING_SESSION_KEY) or {})
    entry = pending.pop(state, None) if state else None
    request.session[PENDING_SESSION_KEY] = pending
    if (
        not isinstance(entry, dict)
        or entry.get("provider") != provider.slug
        or time.time() - entry.get("at", 0) >= PENDING_SECONDS
    ):
        raise SignInRefused(
            "bad_state",
            _("This sign-in link is not valid any more (expired, used twice or from another browser): start again."),
        )
    return entry


def validate_id_token(provider: Provider, raw: str, *, nonce: str) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, times and nonce are checked;
    ``SignInRefused`` otherwise."""
    meta = discovery.metadata(options.option(provider, "issuer"))
    try:
        token = _decode(raw, meta["jwks_uri"])
    except JoseError as exc:
        raise SignInRefused("bad_signature", _("The identity provider's answer is not validly signed.")) from exc
    claims = dict(token.claims)
    client_id = options.option(provider, "client_id")
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": meta["issuer"]},
        sub={"essential": True},
        aud={"essential": True, "value": client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as exc:
        name = getattr(exc, "claim", "") or str(exc)
        raise _claim_refused(str(name)) from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _claim_refused("azp")
    return claims


def _decode(raw: str, jwks_uri: str) -> jwt.Token:
    try:
        return jwt.decode(raw, discovery.keys(jwks_uri), algorithms=ALGORITHMS)
    except (JoseError, ValueError) as first:
        # perhaps a key the provider added since we cached its keys: fetch them once more
        try:
            return jwt.decode(raw, discovery.keys(jwks_uri, fresh=True), algorithms=ALGORITHMS)
        except ValueError as exc:
            raise JoseError(str(exc)) from first


def _claim_refused(claim: str) -> SignInRefused:
    if claim == "exp":
        return SignInRefused("expired", _("The identity provider's answer has expired (check both clocks)."))
    if claim in ("iat", "nbf"):
        return SignInRefused("clock_skew", _("The identity provider's clock and this server's disagree."))
    if claim == "nonce":
        return SignInRefused("bad_nonce", _("The identity provider's answer belongs to another sign-in."))
    if claim in ("aud", "azp"):
        return SignInRefused("wrong_audience", _("The identity provider's answer was meant for another application."))
    if claim == "iss":
        return SignInRefused("wrong_issuer", _("The answer does not come from the configured identity provider."))
    return SignInRefused("bad_token", _("The identity provider's answer is incomplete (%(claim)s).") % {"claim": claim})


def _exchange(provider: Provider, code: str, verifier: str) -> dict[str, Any]:
    meta = discovery.metadata(options.option(provider, "issuer"))
    try:
        secret = client_secret(provider)
    except stored_secrets.SecretError as exc:
        raise SignInRefused("secret_unreadable", str(exc)) from exc
    try:
        token = _client(provider, secret=secret).fetch_token(meta["token_endpoint"], code=code, code_verifier=verifier)
    except AuthlibBaseError as exc:
        raise SignInRefused(
            "token_refused", _("The identity provider refused Palier's request: %(error)s") % {"error": exc}
        ) from exc
    except (requests.RequestException, discovery.ProviderUnavailable) as exc:
        raise _unavailable(exc) from exc
    if not isinstance(token.get("id_token"), str):
        raise SignInRefused("no_id_token", _("The identity provider sent no ID token (is the openid scope allowed?)."))
    return dict(token)


def _userinfo(provider: Provider, access_token: str, subject: str) -> dict[str, Any]:
    endpoint = discovery.metadata(options.option(provider, "issuer")).get("userinfo_endpoint")
    if not endpoint or not access_token:
        return {}
    try:
        response = requests.get(
            endpoint, headers={"Authorization": f"Bearer {access_token}"}, timeout=discovery.TIMEOUT_SECONDS
        )
        data = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError) as exc:
        raise _unavailable(exc) from exc
    if not isinstance(data, dict):
        return {}
    if data.get("sub") != subject:  # OpenID Connect Core 5.3.2: never mix two people's claims
        raise SignInRefused("userinfo_subject", _("The identity provider's answers name two different people."))
    return data


def claims_from_callback(request: HttpRequest, provider: Provider) -> tuple[Claims, str, str]:
    """The claims of the person the provider sent back, their ID token and where to go next."""
    entry = _take_pending(request, provider, request.GET.get("state", ""))
    if error := request.GET.get("error"):
        detail = (request.GET.get("error_description") or error)[:200]
        raise SignInRefused(
            "provider_error", _("The identity provider stopped the sign-in: %(error)s") % {"error": detail}
        )
    returned_issuer = request.GET.get("iss")
    if returned_issuer is not None and not discovery.same_issuer(returned_issuer, options.option(provider, "issuer")):
        # RFC 9207: the answer comes from another provider (a mix-up attack)
        raise SignInRefused("wrong_issuer", _("The answer does not come from the configured identity provider."))
    code = request.GET.get("code", "")
    if not code:
        raise SignInRefused("no_code", _("The identity provider's answer is incomplete."))
    token = _exchange(provider, code, entry["verifier"])
    id_claims = validate_id_token(provider, token["id_token"], nonce=entry["nonce"])
    info = (
        _userinfo(provider, token.get("access_token", ""), id_claims["sub"])
        if options.needs_userinfo(provider, id_claims)
        else {}
    )
    return options.claims_from(provider, id_claims, info), token["id_token"], str(entry.get("next") or "")


def finish(request: HttpRequest, provider: Provider) -> SignedIn:
    """Check the provider's answer and sign the person in; ``SignInRefused`` (recorded in the
    audit log) when anything is wrong, and then nothing changed."""
    ip = provisioning.client_ip(request)
    try:
        claims, id_token, next_url = claims_from_callback(request, provider)
    except SignInRefused as refused:
        provisioning.record_refusal(provider, None, refused, ip=ip)
        raise
    user = provisioning.resolve_user(provider, claims, ip=ip)
    provisioning.complete_sign_in(request, user, provider, claims)
    request.session[ID_TOKEN_SESSION_KEY] = id_token
    return SignedIn(user, next_url)


def sign_out_url(provider: Provider, id_token: str) -> str | None:
    """The provider's end-session address (RP-initiated logout) that comes back to Palier's
    sign-in page, or None when the provider has none (or cannot be reached now)."""
    try:
        endpoint = discovery.metadata(options.option(provider, "issuer")).get("end_session_endpoint")
    except discovery.ProviderUnavailable:
        return None
    if not isinstance(endpoint, str) or not endpoint:
        return None
    params = {
        "post_logout_redirect_uri": options.after_sign_out_uri(),
        "client_id": options.option(provider, "client_id"),
    }
    if id_token:
        params["id_token_hint"] = id_token
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)
