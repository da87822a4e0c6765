"""Microsoft Teams outgoing webhook: HMAC, mentions opening tickets, status answers."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from django.test import Client

from palier.integrations import signatures
from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.integrations.services.teams import message_text
from palier.integrations.tests.conftest import TEAMS_SECRET, Receiver, corpus_bytes, corpus_json
from palier.integrations.views import hooks
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

URL = "/hooks/teams/it/"
AAD = "00000000-0000-0000-0000-000000000001"


def post(client: Client, body: bytes, *, secret: str = TEAMS_SECRET, header: str | None = None) -> Any:
    authorization = header if header is not None else signatures.teams_signature(secret, body)
    return client.post(URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=authorization)


def activity(corpus: Path, text: str, **sender: str) -> bytes:
    data = corpus_json(corpus, "msteams/outgoing_webhook_request.CONSTRUCTED.json")
    data["text"] = f"<at>Palier</at> {text}"
    data["id"] = f"{text[:20]}-{time.time_ns()}"
    data["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")  # inside the replay window
    data["from"].update(sender)
    return json.dumps(data).encode()


@pytest.fixture
def linked(teams_app: ChatApp, requester: User) -> User:
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=AAD, user=requester, by=None)
    return requester


def test_corpus_hmac_vectors(corpus: Path) -> None:
    vectors = corpus_json(corpus, "msteams/hmac_vectors.json")
    body = corpus_bytes(corpus, "msteams/" + vectors["body_file"])
    signatures.verify_teams(
        secret_b64=vectors["security_token"], authorization=vectors["expected_authorization_header"], body=body
    )
    for case in vectors["negative_cases"]:
        changed = body.replace("é".encode(), b"e", 1) if "changed" in case["what"] else body
        with pytest.raises(signatures.BadSignature):
            signatures.verify_teams(
                secret_b64=vectors["security_token"], authorization=case["authorization_header"], body=changed
            )


def test_mention_opens_a_ticket_for_the_linked_user(
    client: Client, linked: User, corpus: Path, django_capture_on_commit_callbacks: Any
) -> None:
    body = corpus_bytes(corpus, "msteams/outgoing_webhook_request.CONSTRUCTED.json")
    sent = datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00")).timestamp()
    with django_capture_on_commit_callbacks(execute=True), patch.object(hooks, "time") as clock:
        clock.time.return_value = sent + 2  # the corpus request, received when it was sent
        response = post(client, body)
    assert response.status_code == 200
    assert response.json()["type"] == "message" and response.json()["text"]
    ticket = Ticket.objects.get()
    assert ticket.requester == linked and ticket.channel == Ticket.Channel.TEAMS
    assert ticket.subject == "L'imprimante du 3e étage ne répond plus"


def test_same_activity_twice_opens_one_ticket(
    client: Client, linked: User, corpus: Path, django_capture_on_commit_callbacks: Any
) -> None:
    body = activity(corpus, "my printer is jammed")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, body)
        post(client, body)
    assert Ticket.objects.count() == 1


def test_sender_matched_by_upn(
    client: Client, teams_app: ChatApp, requester: User, corpus: Path, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post(client, activity(corpus, "vpn down", aadObjectId="other", userPrincipalName="alice@acme.test"))
    assert Ticket.objects.get().requester == requester


def test_unknown_sender_gets_a_polite_answer(client: Client, teams_app: ChatApp, corpus: Path) -> None:
    response = post(client, activity(corpus, "my printer is jammed", aadObjectId="stranger"))
    assert response.status_code == 200 and "stranger" in response.json()["text"]
    assert not Ticket.objects.exists()


def test_status_is_never_answered_in_the_channel(client: Client, linked: User, requester_b: User, corpus: Path) -> None:
    mine = ticket_services.open_ticket(requester=linked, subject="Printer jammed", by=linked)
    theirs = ticket_services.open_ticket(requester=requester_b, subject="Salary question", by=requester_b)
    answer = post(client, activity(corpus, f"status {mine.reference}")).json()["text"]
    assert "Printer jammed" not in answer
    hidden = post(client, activity(corpus, f"status {theirs.reference}")).json()["text"]
    assert "Salary" not in hidden and hidden == answer == chat.not_in_a_channel_answer(linked)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer abc",
        "HMAC AAAA",
        "VPxWLIAv9XJSGQeMycuTlqpV/MrePpvF/7g15qwRRdw=",
    ],
)
def test_invalid_signature_is_401(client: Client, linked: User, corpus: Path, header: str) -> None:
    response = post(client, activity(corpus, "my printer is jammed"), header=header)
    assert response.status_code == 401
    assert not Ticket.objects.exists()


def test_wrong_secret_is_401(client: Client, linked: User, corpus: Path) -> None:
    other = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    assert post(client, activity(corpus, "x"), secret=other).status_code == 401


def test_not_a_message_activity_is_400(client: Client, linked: User) -> None:
    assert post(client, b'{"type": "conversationUpdate"}').status_code == 400
    assert post(client, b"[]").status_code == 400


def test_message_text_drops_mention_and_markup() -> None:
    assert message_text("<at>Palier</at>&nbsp;status <b>INC-4</b>\n") == "status  INC-4"


def test_new_ticket_is_announced_as_an_adaptive_card(
    client: Client, linked: User, corpus: Path, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    app = ChatApp.objects.get(slug="it")
    app.notify_url = receiver.url
    app.save()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, activity(corpus, "my printer is jammed"))
    ticket = Ticket.objects.get()
    [card] = receiver.bodies
    content = card["attachments"][0]["content"]
    assert card["type"] == "message" and content["type"] == "AdaptiveCard"
    assert ticket.reference in json.dumps(content)
