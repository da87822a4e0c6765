"""Hole 10: inbound webhooks answer 4xx to anything malformed, refuse replays, and never post a
ticket's details where a whole channel reads them. Fuzzed with Hypothesis: zero 5xx."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from palier.integrations import signatures
from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.integrations.tests.conftest import SLACK_SECRET, TEAMS_SECRET
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db

EVENTS = "/hooks/slack/acme/events/"
COMMAND = "/hooks/slack/acme/command/"
TEAMS = "/hooks/teams/it/"
AAD = "00000000-0000-0000-0000-000000000001"
FUZZ = hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# header values as a proxy could hand them to Django: any character Latin-1 can carry but CR/LF
HEADER = st.text(st.characters(max_codepoint=0xFF, blacklist_characters="\r\n"), max_size=80)
ANY_TEXT = st.text(max_size=80)


def teams_activity(text: str, *, at: datetime | None = None, **changes: Any) -> bytes:
    data: dict[str, Any] = {
        "type": "message",
        "id": f"{time.time_ns()}",
        "timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "channelId": "msteams",
        "from": {"id": "29:x", "name": "Claire Dupont", "aadObjectId": AAD},
        "conversation": {"isGroup": True, "conversationType": "channel", "id": "19:abc@thread.skype"},
        "locale": "en-US",
        "text": f"<at>Palier</at> {text}",
    }
    data.update(changes)
    return json.dumps(data).encode()


def post_teams(client: Client, body: bytes, authorization: str | None = None) -> Any:
    header = authorization if authorization is not None else signatures.teams_signature(TEAMS_SECRET, body)
    return client.post(TEAMS, data=body, content_type="application/json", HTTP_AUTHORIZATION=header)


def post_slack(client: Client, url: str, body: bytes, *, timestamp: str, signature: str, **extra: Any) -> Any:
    content_type = extra.pop("content_type", "application/json")
    return client.post(
        url,
        data=body,
        content_type=content_type,
        HTTP_X_SLACK_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_SLACK_SIGNATURE=signature,
        **extra,
    )


@pytest.fixture
def teams_user(teams_app: ChatApp, requester: User) -> User:
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=AAD, user=requester, by=None)
    return requester


# --- Slack ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("١٧٠٠٠٠٠٠٠٠", "v0=abc"),  # Arabic-Indic digits: str.isdigit() says yes, ASCII encoding says no
        ("¹²³", "v0=abc"),
        (None, "v0=é" + "0" * 63),  # a valid timestamp with a non-ASCII signature
        (None, "v0=\xff"),
        ("+1700000000", "v0=abc"),
        (" 1700000000", "v0=abc"),
        ("9" * 400, "v0=abc"),
    ],
)
def test_slack_malformed_signature_headers_are_401(
    client: Client, slack_app: ChatApp, timestamp: str | None, signature: str
) -> None:
    body = b'{"type": "url_verification", "challenge": "x"}'
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    for url in (EVENTS, COMMAND):
        response = post_slack(client, url, body, timestamp=stamp, signature=signature)
        assert response.status_code == 401, (url, response.content)
        assert response["Content-Type"] == "application/problem+json"


def test_slack_timestamp_outside_the_window_is_refused_even_when_signed(client: Client, slack_app: ChatApp) -> None:
    body = b'{"type": "url_verification", "challenge": "x"}'
    old = str(int(time.time()) - 301)
    response = post_slack(
        client, EVENTS, body, timestamp=old, signature=signatures.slack_signature(SLACK_SECRET, old, body)
    )
    assert response.status_code == 401


@FUZZ
@given(timestamp=HEADER, signature=HEADER, body=st.binary(max_size=200))
def test_slack_fuzzed_headers_never_500(
    client: Client, slack_app: ChatApp, timestamp: str, signature: str, body: bytes
) -> None:
    for url in (EVENTS, COMMAND):
        response = post_slack(client, url, body, timestamp=timestamp, signature=signature)
        assert response.status_code == 401, response.content


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
SLACK_EVENT = st.fixed_dictionaries(
    {"type": st.sampled_from(["event_callback", "url_verification", "other"]) | JSONISH},
    optional={
        "event_id": JSONISH,
        "challenge": JSONISH,
        "event": st.dictionaries(
            st.sampled_from(["type", "user", "text", "channel_type", "bot_id", "subtype", "user_profile", "email"]),
            st.sampled_from(["app_mention", "message", "im"]) | JSONISH,
            max_size=6,
        )
        | JSONISH,
    },
)


@FUZZ
@given(envelope=SLACK_EVENT, form=st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=6))
def test_slack_fuzzed_signed_payloads_never_500(
    client: Client, slack_app: ChatApp, envelope: dict[str, Any], form: dict[str, str]
) -> None:
    stamp = str(int(time.time()))
    for url, body, content_type in (
        (EVENTS, json.dumps(envelope).encode(), "application/json"),
        (COMMAND, urlencode(form).encode(), "application/x-www-form-urlencoded"),
        (COMMAND, json.dumps(envelope).encode(), "application/x-www-form-urlencoded"),
    ):
        signature = signatures.slack_signature(SLACK_SECRET, stamp, body)
        response = post_slack(client, url, body, timestamp=stamp, signature=signature, content_type=content_type)
        assert response.status_code < 500, response.content


# --- Teams ------------------------------------------------------------------------------------------


def test_teams_replayed_activity_is_refused(client: Client, teams_user: User) -> None:
    old = teams_activity("my printer is jammed", at=datetime.now(UTC) - timedelta(minutes=10))
    response = post_teams(client, old)
    assert response.status_code == 401
    assert "replay" in response.json()["detail"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "timestamp", [None, "", "yesterday", "２０２６-１２-０７T10:00:00Z", 17, "2026-02-30T10:00:00Z"]
)
def test_teams_activity_without_a_usable_timestamp_is_refused(client: Client, teams_user: User, timestamp: Any) -> None:
    data = json.loads(teams_activity("my printer is jammed"))
    if timestamp is None:
        del data["timestamp"]
    else:
        data["timestamp"] = timestamp
    response = post_teams(client, json.dumps(data).encode())
    assert 400 <= response.status_code < 500
    assert not Ticket.objects.exists()


def test_teams_same_activity_twice_is_answered_once(client: Client, teams_user: User) -> None:
    body = teams_activity("status INC-1")
    assert post_teams(client, body).status_code == 200
    assert post_teams(client, body).status_code == 409


def test_teams_never_posts_a_ticket_status_to_the_channel(client: Client, teams_user: User) -> None:
    ticket = ticket_services.open_ticket(requester=teams_user, subject="Salary slip missing", by=teams_user)
    response = post_teams(client, teams_activity(f"status {ticket.reference}"))
    assert response.status_code == 200
    text = response.json()["text"]
    assert "Salary" not in text and "Open" not in text and "Ouvert" not in text
    assert "channel" in text or "canal" in text


@pytest.mark.parametrize("authorization", ["HMAC é", "HMAC \xff\xfe", "hmac abc", "HMAC " + "A" * 5000])
def test_teams_malformed_authorization_is_401(client: Client, teams_user: User, authorization: str) -> None:
    assert post_teams(client, teams_activity("x"), authorization).status_code == 401


@FUZZ
@given(authorization=HEADER, body=st.binary(max_size=200))
def test_teams_fuzzed_headers_never_500(client: Client, teams_app: ChatApp, authorization: str, body: bytes) -> None:
    assert post_teams(client, body, authorization).status_code == 401


TEAMS_ACTIVITY = st.fixed_dictionaries(
    {
        "type": st.just("message") | JSONISH,
        "timestamp": st.just("now") | JSONISH,
    },
    optional={
        "id": JSONISH,
        "from": st.fixed_dictionaries({}, optional={"aadObjectId": st.just(AAD) | JSONISH, "email": JSONISH}) | JSONISH,
        "text": st.sampled_from(["status INC-1", "help", "printer"]) | JSONISH,
        "locale": JSONISH,
        "conversation": JSONISH,
    },
)


@FUZZ
@given(activity=TEAMS_ACTIVITY)
def test_teams_fuzzed_signed_activities_never_500(client: Client, teams_user: User, activity: dict[str, Any]) -> None:
    if activity["timestamp"] == "now":
        activity["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    response = post_teams(client, json.dumps(activity).encode())
    assert response.status_code < 500, response.content


# --- monitoring alerts ------------------------------------------------------------------------------


@FUZZ
@given(authorization=HEADER, token=ANY_TEXT, body=st.binary(max_size=200))
def test_alert_fuzzed_requests_without_a_valid_token_are_401(
    client: Client, make_source: Any, authorization: str, token: str, body: bytes
) -> None:
    response = client.post(
        "/hooks/alerts/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
        QUERY_STRING=urlencode({"token": token}),
    )
    assert response.status_code in {401, 400}, response.content


@FUZZ
@given(payload=JSONISH, raw=st.binary(max_size=100))
def test_alert_fuzzed_payloads_with_a_valid_token_never_500(
    client: Client, make_source: Any, payload: Any, raw: bytes
) -> None:
    for kind in ("alertmanager", "grafana", "generic"):
        _source, token = _sources(make_source)[kind]
        for body in (json.dumps(payload).encode(), raw):
            response = client.post(
                "/hooks/alerts/", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            assert response.status_code < 500, response.content


_SOURCES: dict[int, dict[str, tuple[Any, str]]] = {}


def _sources(make_source: Any) -> dict[str, tuple[Any, str]]:
    """One source per kind for the whole test (Hypothesis calls the body many times)."""
    key = id(make_source)
    if key not in _SOURCES:
        _SOURCES.clear()
        _SOURCES[key] = {kind: make_source(kind) for kind in ("alertmanager", "grafana", "generic")}
    return _SOURCES[key]


# --- NUL characters (PostgreSQL refuses them in text columns: a 500 there, not on SQLite) ----------


def test_nul_characters_are_refused_with_400(
    client: Client, slack_app: ChatApp, teams_user: User, make_source: Any
) -> None:
    stamp = str(int(time.time()))
    event = {"type": "event_callback", "event_id": "Ev\u0000", "event": {"type": "app_mention", "text": "x\u0000"}}
    body = json.dumps(event).encode()
    response = post_slack(
        client, EVENTS, body, timestamp=stamp, signature=signatures.slack_signature(SLACK_SECRET, stamp, body)
    )
    assert response.status_code == 400
    form = urlencode({"user_id": "U1", "text": "printer\x00", "command": "/ticket"}).encode()
    response = post_slack(
        client,
        COMMAND,
        form,
        timestamp=stamp,
        signature=signatures.slack_signature(SLACK_SECRET, stamp, form),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert post_teams(client, teams_activity("printer\u0000 jammed")).status_code == 400
    _source, token = make_source("generic")
    alert = json.dumps({"title": "disk\u0000full", "key": "k1"}).encode()
    response = client.post(
        "/hooks/alerts/", data=alert, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
