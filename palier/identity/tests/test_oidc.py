"""OpenID Connect sign-in against a real provider (``oidc-provider`` from npm, on 127.0.0.1):
what an attacker or a broken provider sends is refused, recorded and changes nothing; a good
sign-in creates or finds the account and signs out at the provider too."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ValidationError
from django.test import Client
from joserfc import jwk

from palier.audit.models import AuditEvent
from palier.identity import oidc
from palier.identity.models import ExternalIdentity, Provider
from palier.identity.oidc import discovery, flow, options
from palier.identity.provisioning import MFA_BY_PROVIDER_SESSION_KEY, SignInRefused
from palier.people import services as people
from palier.people.models import Organisation, SupportGroup, User
from testsupport.oidc_provider import OidcServer

pytestmark = pytest.mark.django_db


def _login() -> str:
    return f"p-{uuid.uuid4().hex[:10]}"


def _callback(client: Client, server: OidcServer, login: str, *, next_url: str = "") -> str:
    """Start at Palier's button, sign in at the provider; the callback address it sends back."""
    start = client.get("/accounts/oidc/corp/login/", {"next": next_url} if next_url else {})
    assert start.status_code == 302 and start["Location"].startswith(server.issuer + "/auth?")
    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    return server.sign_in(start["Location"], login)


def _finish(client: Client, callback: str) -> Any:
    parts = urlsplit(callback)
    return client.get(parts.path + "?" + parts.query, HTTP_ACCEPT_LANGUAGE="en")


def _refusals(reason: str) -> int:
    return sum(1 for e in AuditEvent.objects.filter(action="auth.sso_refused") if e.changes["reason"][1] == reason)


# --- what an attacker or a broken provider sends ------------------------------------------------


def test_a_tampered_or_replayed_state_is_refused_and_nothing_changes(
    oidc_server: OidcServer, oidc_provider: Provider, client: Client
) -> None:
    login = _login()
    oidc_server.add_account(login, email=f"{login}@acme.test", email_verified=True, name="Tam Pered")
    callback = _callback(client, oidc_server, login, next_url="https://evil.example/")
    tampered = callback.replace("state=", "state=x")
    refused = _finish(client, tampered)
    assert refused.status_code == 403
    assert b"not valid any more" in refused.content
    assert _refusals("bad_state") == 1
    # the real state was not used up by the forgery… but a state is good once
    assert _finish(client, callback).status_code == 302
    assert _finish(client, callback).status_code == 403
    assert _refusals("bad_state") == 2
    assert User.objects.filter(email=f"{login}@acme.test").count() == 1


def test_a_callback_from_another_browser_is_refused(oidc_server: OidcServer, oidc_provider: Provider) -> None:
    login = _login()
    oidc_server.add_account(login, email=f"{login}@acme.test")
    callback = _callback(Client(), oidc_server, login)
    assert _finish(Client(), callback).status_code == 403  # the victim's browser has no such state
    assert not User.objects.filter(email=f"{login}@acme.test").exists()


def test_an_answer_naming_another_issuer_is_refused(
    oidc_server: OidcServer, oidc_provider: Provider, client: Client
) -> None:
    login = _login()
    oidc_server.add_account(login, email=f"{login}@acme.test")
    callback = _callback(client, oidc_server, login).replace("iss=", "iss=https%3A%2F%2Fevil.example&was=")
    assert _finish(client, callback).status_code == 403
    assert _refusals("wrong_issuer") == 1


def _token(server: OidcServer, provider: Provider, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": server.issuer,
        "sub": "someone",
        "aud": provider.config["client_id"],
        "exp": now + 300,
        "iat": now,
        "nonce": "the-nonce",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"nonce": "another-sign-in"}, "bad_nonce"),
        ({"nonce": None}, "bad_nonce"),
        ({"aud": "another-application"}, "wrong_audience"),
        ({"aud": ["CLIENT", "another-application"]}, "wrong_audience"),  # several audiences and no azp
        ({"exp": "now-600"}, "expired"),
        ({"iat": "now+600"}, "clock_skew"),
        ({"iss": "https://evil.example"}, "wrong_issuer"),
    ],
)
def test_id_tokens_that_are_wrong_are_refused(
    oidc_server: OidcServer, oidc_provider: Provider, overrides: dict[str, Any], reason: str
) -> None:
    if overrides.get("aud") and isinstance(overrides["aud"], list):
        overrides = {"aud": [oidc_provider.config["client_id"], "another-application"]}
    for name, value in overrides.items():  # times relative to now, not to when the tests were collected
        if isinstance(value, str) and value.startswith("now"):
            overrides[name] = int(time.time()) + int(value[3:])
    raw = oidc_server.mint(_token(oidc_server, oidc_provider, **overrides))
    with pytest.raises(SignInRefused) as refused:
        flow.validate_id_token(oidc_provider, raw, nonce="the-nonce")
    assert refused.value.reason == reason


def test_a_small_clock_skew_is_allowed_and_a_forged_signature_is_not(
    oidc_server: OidcServer, oidc_provider: Provider
) -> None:
    late = _token(oidc_server, oidc_provider, exp=int(time.time()) - 60, iat=int(time.time()) - 400)
    assert flow.validate_id_token(oidc_provider, oidc_server.mint(late), nonce="the-nonce")["sub"] == "someone"
    # an attacker's key, even under the provider's key id: refused (after fetching the keys once more)
    forger = jwk.RSAKey.generate_key(2048, private=True, parameters={"kid": oidc_server.key.kid})
    with pytest.raises(SignInRefused) as refused:
        flow.validate_id_token(
            oidc_provider, oidc_server.mint(_token(oidc_server, oidc_provider), key=forger), nonce="the-nonce"
        )
    assert refused.value.reason == "bad_signature"
    with pytest.raises(SignInRefused):  # "none" is never an algorithm
        flow.validate_id_token(oidc_provider, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", nonce="the-nonce")


def test_a_provider_that_gives_no_email_is_refused(
    oidc_server: OidcServer, oidc_provider: Provider, client: Client
) -> None:
    login = _login()
    oidc_server.add_account(login, name="No Mail")
    response = _finish(client, _callback(client, oidc_server, login))
    assert response.status_code == 403
    assert b"did not give your email address" in response.content
    assert not ExternalIdentity.objects.exists() and _refusals("no_email") == 1


def test_an_email_already_used_is_refused_and_nothing_is_linked(
    oidc_server: OidcServer, oidc_provider: Provider, client: Client, requester: User
) -> None:
    login = _login()
    oidc_server.add_account(login, email=requester.email, email_verified=True, name="Impostor")
    response = _finish(client, _callback(client, oidc_server, login))
    assert response.status_code == 403
    assert b"already exists" in response.content
    assert not ExternalIdentity.objects.exists()
    requester.refresh_from_db()
    assert requester.full_name == "Alice Martin" and "_auth_user_id" not in client.session


def test_a_deactivated_account_is_refused(oidc_server: OidcServer, oidc_provider: Provider, client: Client) -> None:
    login = _login()
    oidc_server.add_account(login, email=f"{login}@acme.test")
    assert _finish(client, _callback(client, oidc_server, login)).status_code == 302
    user = User.objects.get(email=f"{login}@acme.test")
    people.update_user(user, by=None, is_active=False)
    other = Client()
    response = _finish(other, _callback(other, oidc_server, login))
    assert response.status_code == 403 and b"deactivated" in response.content
    assert "_auth_user_id" not in other.session


def test_a_provider_that_stops_the_sign_in_says_so(oidc_provider: Provider, client: Client) -> None:
    start = client.get("/accounts/oidc/corp/login/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get(
        "/accounts/oidc/corp/callback/",
        {"state": state, "error": "access_denied", "error_description": "The user said no"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 403 and b"The user said no" in response.content


def test_a_switched_off_or_unknown_provider_does_not_start(oidc_provider: Provider, client: Client) -> None:
    oidc_provider.enabled = False
    oidc_provider.save()
    assert client.get("/accounts/oidc/corp/login/", HTTP_ACCEPT_LANGUAGE="en").status_code == 403
    assert client.get("/accounts/oidc/nobody/login/").status_code == 404


# --- a good sign-in -------------------------------------------------------------------------------


def test_a_first_sign_in_creates_the_account_with_its_organisation_role_groups_and_mfa(
    oidc_server: OidcServer, oidc_provider: Provider, client: Client, org: Organisation, l2: SupportGroup
) -> None:
    oidc_provider.sync_groups = True
    oidc_provider.role_map = {"desk-agents": "agent"}
    oidc_provider.group_map = {"desk-agents": [l2.name]}
    oidc_provider.satisfies_mfa = True
    oidc_provider.save()
    login = _login()
    oidc_server.add_account(
        login, email=f"{login}@acme.test", email_verified=True, name="Zoé Durand", locale="fr-FR",
        groups=["desk-agents", "other"], amr=["pwd", "mfa"],
    )  # fmt: skip
    response = _finish(client, _callback(client, oidc_server, login, next_url="/agent/"))
    assert response.status_code == 302 and response["Location"] == "/agent/"
    user = User.objects.get(email=f"{login}@acme.test")
    assert (user.full_name, user.language, user.role, user.organisation) == ("Zoé Durand", "fr", "agent", org)
    assert l2.members.filter(pk=user.pk).exists()
    assert int(client.session["_auth_user_id"]) == user.pk and client.session[MFA_BY_PROVIDER_SESSION_KEY] is True
    assert ExternalIdentity.objects.get(provider=oidc_provider).subject == login
    # the sign-in page shows the button; the next sign-in finds the same account
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert b"Sign in with Corp" in page.content and b"/accounts/oidc/corp/login/" in page.content
    again = Client()
    _finish(again, _callback(again, oidc_server, login))
    assert User.objects.filter(email=f"{login}@acme.test").count() == 1 and "_auth_user_id" in again.session


def test_sign_out_ends_both_sessions(oidc_server: OidcServer, oidc_provider: Provider, client: Client) -> None:
    login = _login()
    oidc_server.add_account(login, email=f"{login}@acme.test")
    _finish(client, _callback(client, oidc_server, login))
    id_token = client.session[flow.ID_TOKEN_SESSION_KEY]
    response = client.post("/accounts/logout/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and b"signed out of Palier" in response.content
    target = urlsplit(response.context["provider_url"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{oidc_server.issuer}/session/end"
    query = parse_qs(target.query)
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"]
    assert "_auth_user_id" not in client.session
    # the provider accepts it: it asks the person to confirm signing out there
    assert requests.get(response.context["provider_url"], timeout=5).status_code == 200
    # a password session signs out locally only
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"


def test_claims_are_mapped_from_the_settings(oidc_provider: Provider) -> None:
    oidc_provider.config.update(claim_groups="roles", claim_language="lang", mfa_acr_values=["urn:gold"])
    claims = options.claims_from(
        oidc_provider,
        {"sub": "s", "given_name": "Ana", "family_name": "Lima", "acr": "urn:gold", "roles": "desk"},
        {"sub": "s", "email": "ana@acme.test", "email_verified": "true", "lang": "en-GB", "groups": ["ignored"]},
    )
    assert (claims.full_name, claims.email, claims.email_verified, claims.language) == (
        "Ana Lima",
        "ana@acme.test",
        True,
        "en-GB",
    )
    assert claims.groups == ("desk",) and claims.mfa
    # amr must come from the ID token itself, and "pwd" alone is one factor
    single = options.claims_from(oidc_provider, {"sub": "s", "amr": ["pwd"]}, {"amr": ["mfa"]})
    assert not single.mfa and not single.email_verified


def test_discovery_and_keys_are_cached(
    oidc_server: OidcServer, oidc_provider: Provider, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.get("/accounts/oidc/corp/login/")
    discovery.keys(discovery.metadata(oidc_server.issuer)["jwks_uri"])

    def offline(*args: object, **kwargs: object) -> None:
        raise AssertionError("fetched again")

    monkeypatch.setattr(requests, "get", offline)
    assert client.get("/accounts/oidc/corp/login/").status_code == 302
    assert discovery.keys(discovery.metadata(oidc_server.issuer)["jwks_uri"]).keys


# --- settings and "test this provider" -------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"client_id": "x"}, "issuer"),
        ({"issuer": "http://login.example.com", "client_id": "x"}, "issuer"),
        ({"issuer": "https://login.example.com/?a=1", "client_id": "x"}, "issuer"),
        ({"issuer": "https://login.example.com"}, "client_id"),
        ({"issuer": "https://login.example.com", "client_id": "x", "scopes": "email"}, "scopes"),
        ({"issuer": "https://login.example.com", "client_id": "x", "client_secret": "s"}, "client_secret"),
        ({"issuer": "https://login.example.com", "client_id": "x", "colour": "red"}, "config"),
        (
            {"issuer": "https://login.example.com", "client_id": "x", "token_endpoint_auth_method": "none"},
            "token_endpoint_auth_method",
        ),
    ],
)
def test_bad_settings_are_refused_with_their_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        oidc.clean_config(config)
    assert field in refused.value.message_dict


def test_the_provider_test_explains_each_failure(oidc_server: OidcServer, oidc_provider: Provider) -> None:
    checks = {c.name: c for c in oidc.test_provider(oidc_provider)}
    assert all(c.ok for c in checks.values()), checks
    assert "/accounts/oidc/corp/callback/" in checks["Redirect URI"].detail

    oidc_provider.config["claim_email"] = "mail"
    claims = {c.name: c for c in oidc.test_provider(oidc_provider)}["Claims"]
    assert not claims.ok and "does not send the mail claim" in claims.detail
    oidc_provider.config["claim_email"] = "email"

    oidc_server.set_clock(600)
    try:
        clock = {c.name: c for c in oidc.test_provider(oidc_provider)}["Clock"]
    finally:
        oidc_server.set_clock(0)
    assert not clock.ok and "seconds ahead of this server" in clock.detail

    oidc_provider.config["issuer"] = oidc_server.issuer.replace("127.0.0.1", "localhost")
    (first, *_rest) = oidc.test_provider(oidc_provider)
    assert not first.ok and "calls itself" in first.detail

    oidc_provider.config["issuer"] = "http://127.0.0.1:9"  # nothing listens there
    oidc_provider.secret = ""
    checks = {c.name: c for c in oidc.test_provider(oidc_provider)}
    assert not checks["Discovery"].ok and "cannot be reached" in checks["Discovery"].detail
    assert not checks["Client secret"].ok
