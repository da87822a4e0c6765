"""Slack: v0 signatures, url_verification, events (mentions, retries), the /ticket command."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from palier.integrations import signatures
from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.integrations.tests.conftest import SLACK_SECRET, Receiver, corpus_bytes, corpus_json
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

EVENTS = "/hooks/slack/acme/events/"
COMMAND = "/hooks/slack/acme/command/"


def signed(client: Client, url: str, body: bytes, *, content_type: str, at: float | None = None, **extra: Any) -> Any:
    timestamp = str(int(at if at is not None else time.time()))
    headers = {
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": timestamp,
        "HTTP_X_SLACK_SIGNATURE": signatures.slack_signature(SLACK_SECRET, timestamp, body),
    }
    return client.post(url, data=body, content_type=content_type, **headers, **extra)


def command(client: Client, text: str, *, user_id: str = "U2CERLKJA", response_url: str = "") -> Any:
    body = urlencode(
        {"team_id": "T1", "user_id": user_id, "command": "/ticket", "text": text, "response_url": response_url}
    ).encode()
    return signed(client, COMMAND, body, content_type="application/x-www-form-urlencoded")


def mention(event_id: str, text: str, user: str = "U2CERLKJA") -> bytes:
    event = {"type": "app_mention", "user": user, "text": f"<@U0PALIER> {text}", "channel": "C1", "ts": "1.2"}
    return json.dumps({"type": "event_callback", "event_id": event_id, "team_id": "T1", "event": event}).encode()


@pytest.fixture
def linked(slack_app: ChatApp, requester: User) -> User:
    chat.link_identity(kind=ChatApp.Kind.SLACK, external_id="U2CERLKJA", user=requester, by=None)
    return requester


# --- signatures (the corpus vectors) ----------------------------------------------------------------


def test_corpus_signature_vectors(corpus: Path) -> None:
    vectors = corpus_json(corpus, "slack/signature_vectors.json")["vectors"]
    for vector in vectors:
        body = corpus_bytes(corpus, "slack/" + vector["body_file"]) if "body_file" in vector else b""
        if "body_suffix" in vector:
            body = (
                corpus_bytes(corpus, "slack/slash_command_body.x-www-form-urlencoded") + vector["body_suffix"].encode()
            )
        now = vector.get("valid_at_unix_time", int(vector["X-Slack-Request-Timestamp"]))
        kwargs = {
            "secret": vector["signing_secret"],
            "timestamp": vector["X-Slack-Request-Timestamp"],
            "signature": vector["X-Slack-Signature"],
            "body": body,
            "now": now,
        }
        if vector["valid"]:
            signatures.verify_slack(**kwargs)
        else:
            with pytest.raises(signatures.BadSignature):
                signatures.verify_slack(**kwargs)


def test_url_verification_answers_the_challenge(client: Client, slack_app: ChatApp, corpus: Path) -> None:
    body = corpus_bytes(corpus, "slack/zulip_url_verification.json")
    response = signed(client, EVENTS, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_invalid_signature_is_401(client: Client, slack_app: ChatApp, linked: User) -> None:
    body = mention("Ev1", "printer jammed")
    timestamp = str(int(time.time()))
    response = client.post(
        EVENTS,
        data=body,
        content_type="application/json",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=timestamp,
        HTTP_X_SLACK_SIGNATURE=signatures.slack_signature("another-secret", timestamp, body),
    )
    assert response.status_code == 401 and "signature" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_missing_signature_is_401(client: Client, slack_app: ChatApp) -> None:
    response = client.post(COMMAND, data="user_id=U1&text=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401


def test_stale_timestamp_is_401(
    client: Client, slack_app: ChatApp, linked: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = signed(
            client, EVENTS, mention("Ev1", "printer jammed"), content_type="application/json", at=time.time() - 301
        )
    assert response.status_code == 401 and "five minutes" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_unset_secret_refuses_everything(client: Client, slack_app: ChatApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PALIER_TEST_SLACK_SECRET")
    response = command(client, "printer jammed")
    assert response.status_code == 401 and "not configured" in response.json()["detail"]


def test_unknown_payload_type_is_400(client: Client, slack_app: ChatApp) -> None:
    response = signed(client, EVENTS, b'{"type": "block_actions"}', content_type="application/json")
    assert response.status_code == 400 and "block_actions" in response.json()["detail"]
    response = signed(client, EVENTS, b"not json", content_type="application/json")
    assert response.status_code == 400


# --- events -----------------------------------------------------------------------------------------


def test_mention_opens_a_ticket_for_the_linked_user(
    client: Client, slack_app: ChatApp, linked: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = signed(client, EVENTS, mention("Ev1", "my printer is jammed"), content_type="application/json")
    assert response.status_code == 200 and response.json()["outcome"] == "queued"
    ticket = Ticket.objects.get()
    assert ticket.requester == linked and ticket.channel == Ticket.Channel.SLACK
    assert ticket.subject == "my printer is jammed"


def test_event_retry_is_deduplicated(
    client: Client, slack_app: ChatApp, linked: User, django_capture_on_commit_callbacks: Any
) -> None:
    body = mention("Ev42", "my printer is jammed")
    with django_capture_on_commit_callbacks(execute=True):
        signed(client, EVENTS, body, content_type="application/json")
        retry = signed(client, EVENTS, body, content_type="application/json", HTTP_X_SLACK_RETRY_NUM="1")
    assert retry.status_code == 200 and retry.json()["outcome"] == "duplicate"
    assert Ticket.objects.count() == 1


def test_channel_message_and_bot_messages_open_nothing(
    client: Client, slack_app: ChatApp, linked: User, corpus: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        plain = signed(
            client,
            EVENTS,
            corpus_bytes(corpus, "slack/zulip_event_callback_message.json"),
            content_type="application/json",
        )
        bot = json.loads(mention("Ev2", "echo"))
        bot["event"]["bot_id"] = "B1"
        from_bot = signed(client, EVENTS, json.dumps(bot).encode(), content_type="application/json")
    assert plain.json()["outcome"] == "ignored" and from_bot.json()["outcome"] == "ignored"
    assert not Ticket.objects.exists()


def test_mention_from_unknown_user_opens_nothing(client: Client, slack_app: ChatApp) -> None:
    response = signed(client, EVENTS, mention("Ev3", "help", user="UNKNOWN"), content_type="application/json")
    assert response.json()["outcome"] == "unknown-sender"
    assert not Ticket.objects.exists()


def test_email_in_payload_identifies_the_sender(
    client: Client, slack_app: ChatApp, requester: User, django_capture_on_commit_callbacks: Any
) -> None:
    data = json.loads(mention("Ev4", "vpn down", user="UNLINKED"))
    data["event"]["user_profile"] = {"email": "ALICE@acme.test"}
    with django_capture_on_commit_callbacks(execute=True):
        signed(client, EVENTS, json.dumps(data).encode(), content_type="application/json")
    assert Ticket.objects.get().requester == requester


# --- slash command -----------------------------------------------------------------------------------


def test_slash_command_acknowledges_and_queues_the_ticket(
    client: Client, slack_app: ChatApp, linked: User, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    linked.language = "en"  # answered in the sender's language
    linked.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = command(client, "my printer is jammed", response_url=receiver.url)
    # the answer does not wait for the ticket: it is opened by the queued task
    assert response.status_code == 200
    assert response.json()["response_type"] == "ephemeral" and "opening a ticket" in response.json()["text"]
    assert not Ticket.objects.exists() and len(queued) == 1
    with django_capture_on_commit_callbacks(execute=True):
        queued[0]()
    ticket = Ticket.objects.get()
    assert ticket.requester == linked and ticket.channel == Ticket.Channel.SLACK
    [reply] = receiver.bodies  # posted to Slack's response_url
    assert reply["response_type"] == "ephemeral" and ticket.reference in reply["text"]


def test_slash_command_from_unknown_user_explains_how_to_link(
    client: Client, slack_app: ChatApp, settings: Any
) -> None:
    settings.LANGUAGE_CODE = "en"  # an unknown sender is answered in the desk's language
    response = command(client, "my printer is jammed", user_id="UNKNOWN")
    assert response.status_code == 200
    assert "UNKNOWN" in response.json()["text"] and "link" in response.json()["text"]
    assert not Ticket.objects.exists()


def test_status_answers_what_the_sender_may_see(
    client: Client, slack_app: ChatApp, linked: User, requester_b: User
) -> None:
    mine = ticket_services.open_ticket(requester=linked, subject="Printer jammed", by=linked)
    theirs = ticket_services.open_ticket(requester=requester_b, subject="Salary question", by=requester_b)
    answer = command(client, f"status {mine.reference}").json()["text"]
    assert mine.reference in answer and "Printer jammed" in answer
    hidden = command(client, f"status {theirs.reference}").json()["text"]
    assert "Salary" not in hidden and theirs.reference in hidden
    assert hidden == chat.status_answer(linked, theirs.reference)  # "not found"
    assert "INC-999999" in command(client, "status INC-999999").json()["text"]


def test_help(client: Client, slack_app: ChatApp, linked: User) -> None:
    assert "/ticket status" in command(client, "").json()["text"]


def test_not_a_slash_command_is_400(client: Client, slack_app: ChatApp) -> None:
    response = signed(client, COMMAND, b"text=hello", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_unknown_or_disabled_app_is_404(client: Client, slack_app: ChatApp) -> None:
    chat.set_chat_app_active(slack_app, active=False, by=None)
    assert command(client, "x").status_code == 404
