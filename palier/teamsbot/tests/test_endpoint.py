"""The bot's endpoint: only the Bot Framework, for this bot, gets in; everything else is 401 and
leaves no trace (nothing stored, nothing sent)."""

from __future__ import annotations

from typing import Any

import pytest

from palier.core.models import OutboxItem
from palier.integrations.models import ChatApp, ChatEvent
from palier.teamsbot import auth
from palier.teamsbot.models import Conversation
from palier.teamsbot.tests.conftest import OTHER_KEY, Microsoft, Post, load, token_for
from palier.tickets.models import Ticket


def nothing_happened(microsoft: Microsoft) -> None:
    assert not ChatEvent.objects.exists()
    assert not Conversation.objects.exists()
    assert not OutboxItem.objects.exists()
    assert not Ticket.objects.exists()
    assert not microsoft.connector_calls()


def test_a_genuine_activity_is_stored_and_answered(bot: ChatApp, post: Post, microsoft: Microsoft) -> None:
    activity = load("personal_message", microsoft)
    response = post(activity)
    assert response.status_code == 200
    event = ChatEvent.objects.get()
    assert event.payload["id"] == activity["id"]  # the raw activity, kept
    conversation = Conversation.objects.get()
    assert conversation.service_url == microsoft.service_url
    assert conversation.conversation_id == activity["conversation"]["id"]
    # the stranger gets the link to confirm who they are, sent by the worker with the bot's token
    (call,) = microsoft.connector_calls()
    assert call.method == "POST"
    assert call.path.startswith("/emea/v3/conversations/a%3A1Xb7")
    assert call.headers["Authorization"] == "Bearer bot-token-1"
    assert "https://desk.example.test/teams/link/" in microsoft.texts()
    (token_call,) = microsoft.token_calls()
    assert "client_secret=test-client-secret" in token_call.body
    assert "grant_type=client_credentials" in token_call.body


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda a: {"token": token_for(a, key=OTHER_KEY)}, id="signed-by-another-key"),
        pytest.param(lambda a: {"token": token_for(a, kid="unknown")}, id="unpublished-key-id"),
        pytest.param(lambda a: {"token": token_for(a, audience="another-bot")}, id="other-audience"),
        pytest.param(lambda a: {"token": token_for(a, expires_in=-600)}, id="expired"),
        pytest.param(lambda a: {"token": token_for(a, issuer="https://evil.example")}, id="wrong-issuer"),
        pytest.param(lambda a: {"token": token_for(a, service_url="https://smba.evil/")}, id="serviceurl-mismatch"),
        pytest.param(lambda a: {"header": ""}, id="no-header"),
        pytest.param(lambda a: {"header": "Basic dXNlcjpwYXNz"}, id="not-bearer"),
        pytest.param(lambda a: {"token": "not.a.jwt"}, id="garbage"),
        pytest.param(lambda a: {"token": token_for(a).rsplit(".", 1)[0] + ".c2lnbmF0dXJl"}, id="signature-replaced"),
    ],
)
def test_refused_tokens_leave_no_trace(bot: ChatApp, post: Post, microsoft: Microsoft, forge: Any) -> None:
    activity = load("personal_message", microsoft)
    response = post(activity, **forge(activity))
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    nothing_happened(microsoft)


def test_unsigned_token_is_refused(bot: ChatApp, post: Post, microsoft: Microsoft) -> None:
    import base64
    import json

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    activity = load("personal_message", microsoft)
    claims = {"iss": auth.ISSUER, "aud": bot.bot_app_id, "exp": 9999999999, "serviceUrl": activity["serviceUrl"]}
    none_token = f"{part({'alg': 'none'})}.{part(claims)}."
    assert post(activity, token=none_token).status_code == 401
    nothing_happened(microsoft)


def test_a_service_url_outside_the_allowed_list_is_refused(
    bot: ChatApp, post: Post, microsoft: Microsoft, settings: Any
) -> None:
    """Even with a genuine token: Palier would write its replies to that address."""
    settings.PALIER_TEAMS_ALLOWED_SERVICE_URLS = ["https://smba.trafficmanager.net/"]
    response = post(load("personal_message", microsoft))
    assert response.status_code == 401
    nothing_happened(microsoft)


def test_a_key_not_endorsing_the_channel_is_refused(bot: ChatApp, post: Post, microsoft: Microsoft) -> None:
    response = post(load("personal_message", microsoft, channelId="webchat"))
    assert response.status_code == 401
    nothing_happened(microsoft)


def test_a_replayed_activity_changes_nothing(bot: ChatApp, post: Post, microsoft: Microsoft) -> None:
    activity = load("personal_message", microsoft)
    assert post(activity).status_code == 200
    sent = len(microsoft.connector_calls())
    items = OutboxItem.objects.count()
    again = post(activity)  # the same activity, with a fresh genuine token
    assert again.status_code == 200
    assert ChatEvent.objects.count() == 1
    assert OutboxItem.objects.count() == items
    assert len(microsoft.connector_calls()) == sent


def test_an_app_without_bot_id_has_no_endpoint(bot: ChatApp, post: Post, microsoft: Microsoft) -> None:
    ChatApp.objects.filter(pk=bot.pk).update(bot_app_id="")
    assert post(load("personal_message", microsoft)).status_code == 404
    nothing_happened(microsoft)


def test_unknown_key_ids_refetch_the_keys_at_most_every_five_minutes(bot: ChatApp, microsoft: Microsoft) -> None:
    now = 1_800_000_000.0
    assert auth.signing_key("k-unknown", now=now) is None
    assert auth.signing_key("k-other", now=now + 10) is None
    fetches = [c for c in microsoft.calls if c.path == "/keys"]
    assert len(fetches) == 1
    assert auth.signing_key("k-again", now=now + auth.REFRESH_INTERVAL + 1) is None
    assert len([c for c in microsoft.calls if c.path == "/keys"]) == 2


def test_a_body_that_is_not_an_activity_is_refused(bot: ChatApp, client: Any, microsoft: Microsoft) -> None:
    response = client.post(
        "/hooks/teams/it/messages", data=b"[1, 2]", content_type="application/json", HTTP_AUTHORIZATION="Bearer x"
    )
    assert response.status_code == 400
    nothing_happened(microsoft)
