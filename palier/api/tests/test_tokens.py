"""Personal API tokens: they expire (by default after ``PALIER_TOKEN_DAYS``), say when and from
where they were last used, and only a session or a token with the ``tokens`` scope mints more."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people import services as people
from palier.people.models import ApiToken
from palier.people.services import authenticate_token


def bearer(secret: str, ip: str = "127.0.0.1") -> ApiClient:
    return ApiClient(headers={"Authorization": f"Bearer {secret}"}, REMOTE_ADDR=ip)


def test_a_write_token_cannot_mint_tokens(token_client, requester):
    response = token_client(requester, "write").call("POST", "/tokens", {"name": "more", "scope": "write"})
    assert_problem(response, 403, "scope")
    assert ApiToken.objects.count() == 1


def test_a_session_or_a_tokens_token_mints_tokens(client_for, token_client, requester):
    assert client_for(requester).call("POST", "/tokens", {"name": "ci", "scope": "tokens"}).status_code == 201
    response = token_client(requester, "tokens").call("POST", "/tokens", {"name": "job", "scope": "read"})
    assert response.status_code == 201, response.content
    assert ApiToken.objects.filter(user=requester).count() == 3


def test_a_tokens_token_also_reads_and_writes(token_client, requester, triage):
    assert token_client(requester, "tokens").call("POST", "/tickets", {"subject": "Écran"}).status_code == 201


def test_tokens_expire_after_the_default_days(client_for, requester, settings):
    settings.PALIER_TOKEN_DAYS = 30
    body = client_for(requester).call("POST", "/tokens", {"name": "ci", "scope": "read"}).json()
    token = ApiToken.objects.get(pk=body["id"])
    assert token.expires_at is not None
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert body["expires_at"] is not None
    assert bearer(body["secret"]).call("GET", "/users/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_problem(bearer(body["secret"]).call("GET", "/users/me"), 401)


def test_the_caller_chooses_a_shorter_life_and_no_default_means_no_expiry(client_for, requester, settings):
    settings.PALIER_TOKEN_DAYS = 0
    client = client_for(requester)
    never = client.call("POST", "/tokens", {"name": "a"}).json()
    week = client.call("POST", "/tokens", {"name": "b", "days": 7}).json()
    assert never["expires_at"] is None
    assert ApiToken.objects.get(pk=week["id"]).expires_at < timezone.now() + timedelta(days=7, minutes=1)
    assert_problem(client.call("POST", "/tokens", {"name": "c", "days": 0}), 422, "days")


def test_last_use_and_address_are_kept_at_most_once_a_minute(requester):
    issued = people.create_api_token(requester, scope="read")
    assert bearer(issued.secret, "10.0.0.1").call("GET", "/users/me").status_code == 200
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.last_used_at is not None and token.last_used_ip == "10.0.0.1"
    assert bearer(issued.secret, "10.0.0.2").call("GET", "/users/me").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_ip == "10.0.0.1"  # no write within the minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(minutes=2))
    bearer(issued.secret, "10.0.0.2").call("GET", "/users/me")
    assert ApiToken.objects.get(pk=token.pk).last_used_ip == "10.0.0.2"
    listed = bearer(issued.secret).call("GET", "/tokens").json()
    assert listed[0]["last_used_ip"] == "10.0.0.2"


def test_token_command_takes_days(agent):
    out = StringIO()
    call_command("token", "create", agent.email, "--days", "3", stdout=out, stderr=StringIO())
    token = authenticate_token(out.getvalue().strip().splitlines()[-1])
    assert token is not None and token.expires_at is not None
    assert token.expires_at < timezone.now() + timedelta(days=3, minutes=1)
