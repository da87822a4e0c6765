# ruff: noqa: F811  (fixtures imported from the integrations and CAB tests)
"""Approvals decided from Slack and Teams: commands, the Slack button, and the direct message that
asks a linked approver (sent to a real local server standing for Slack's Web API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from palier.catalog.models import Approval
from palier.changes.models import Change
from palier.changes.services import boards
from palier.changes.tests.test_cab import ask, board, cab, pending, ready_change, status  # noqa: F401
from palier.core import outbox
from palier.core.models import OutboxItem
from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.integrations.tests.conftest import corpus, slack_app, teams_app  # noqa: F401
from palier.integrations.tests.test_slack import command, signed
from palier.integrations.tests.test_teams import AAD, activity, post
from palier.people.models import SupportGroup, User

pytestmark = pytest.mark.django_db
INTERACTIVE = "/hooks/slack/acme/interactive/"


class FakeSlack:
    """A local HTTP server answering as Slack's Web API and its reply addresses do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []  # (path, authorization, body)
        self.answer: dict[str, Any] = {"ok": True}
        self.url = ""


@pytest.fixture
def fake_slack(settings: Any) -> Iterator[FakeSlack]:
    state = FakeSlack()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            state.calls.append((self.path, self.headers.get("Authorization", ""), body))
            answer = json.dumps(state.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PALIER_SLACK_API_URL = state.url + "/api"
    settings.PALIER_SLACK_HOOKS_URL = state.url + "/hooks/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def asked_change(agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]) -> Change:
    group, _members = cab
    on_path(admin_user, group)
    return ask(ready_change(agent), agent)


def on_path(admin: User, group: SupportGroup) -> None:
    boards.add_stage(by=admin, path="normal", board=board(admin, group, "any"), min_risk="low")


def link(kind: str, external_id: str, user: User) -> None:
    """Link the chat account; people without a language read English here (French is the default)."""
    if not user.language:
        user.language = "en"
        user.save(update_fields=["language"])
    chat.link_identity(kind=kind, external_id=external_id, user=user, by=None)


def click(client: Client, approval_id: int, *, user_id: str, action: str = "approval_approve", reply: str = "") -> Any:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id},
        "actions": [{"action_id": action, "value": str(approval_id)}],
        "response_url": reply,
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return signed(client, INTERACTIVE, body, content_type="application/x-www-form-urlencoded")


def test_a_linked_approver_approves_with_the_slash_command(
    client: Client,
    slack_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
) -> None:
    ana = cab[1][0]
    link(ChatApp.Kind.SLACK, "UANA", ana)
    listed = command(client, "approvals", user_id="UANA").json()["text"]
    assert asked_change.reference in listed and asked_change.title in listed
    answer = command(client, f"approve {asked_change.reference} fine by me", user_id="UANA").json()["text"]
    assert answer == f"You approved {asked_change.reference}."
    decided = Approval.objects.get(approver=ana)
    assert (decided.decision, decided.comment, decided.via) == ("approved", "fine by me", "slack")
    assert status(asked_change) == Change.Status.APPROVED
    again = command(client, f"approve {asked_change.reference}", user_id="UANA").json()["text"]
    assert "Nothing named" in again
    assert Approval.objects.filter(decision="approved").count() == 1


def test_an_email_in_the_payload_is_not_enough_to_decide(
    client: Client,
    slack_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
) -> None:
    ana = cab[1][0]
    from palier.integrations.tests.test_slack import COMMAND
    from palier.integrations.tests.test_slack import signed as slack_signed

    body = urlencode(
        {
            "user_id": "UFORGED",
            "command": "/ticket",
            "text": f"approve {asked_change.reference}",
            "user_email": ana.email,
        }
    ).encode()
    answer = slack_signed(client, COMMAND, body, content_type="application/x-www-form-urlencoded").json()["text"]
    assert "UFORGED" in answer and "Palier" in answer  # "link your Slack account (id UFORGED) …"
    assert pending(ana).decision == Approval.Decision.PENDING
    assert status(asked_change) == Change.Status.AWAITING_APPROVAL


def test_someone_not_asked_cannot_decide_and_rejecting_needs_a_reason(
    client: Client,
    slack_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
    agent: User,
) -> None:
    link(ChatApp.Kind.SLACK, "UAGENT", agent)  # not on the board
    refused = command(client, f"approve {asked_change.reference}", user_id="UAGENT").json()["text"]
    assert "Nothing named" in refused
    ben = cab[1][1]
    link(ChatApp.Kind.SLACK, "UBEN", ben)
    why = command(client, f"reject {asked_change.reference}", user_id="UBEN").json()["text"]
    assert "Say why" in why and pending(ben).decision == Approval.Decision.PENDING
    done = command(client, f"reject {asked_change.reference} no back-out tested", user_id="UBEN").json()["text"]
    assert done == f"You rejected {asked_change.reference}."
    assert status(asked_change) == Change.Status.REJECTED


def test_commands_answer_in_the_approvers_language(
    client: Client,
    slack_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
) -> None:
    cyd = cab[1][2]
    cyd.language = "fr"
    cyd.save(update_fields=["language"])
    link(ChatApp.Kind.SLACK, "UCYD", cyd)
    answer = command(client, f"approuver {asked_change.reference}", user_id="UCYD").json()["text"]
    assert answer == f"Vous avez approuvé {asked_change.reference}."


def test_teams_mention_approves(
    client: Client,
    teams_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
    corpus: Path,
) -> None:
    ana = cab[1][0]
    link(ChatApp.Kind.TEAMS, AAD, ana)
    response = post(client, activity(corpus, f"approve {asked_change.reference}", aadObjectId=AAD))
    assert response.status_code == 200 and response.json()["text"] == f"You approved {asked_change.reference}."
    assert Approval.objects.get(approver=ana).via == "teams"


def test_the_slack_button_approves_once_and_answers_in_place(
    client: Client,
    slack_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
    fake_slack: FakeSlack,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana = cab[1][0]
    link(ChatApp.Kind.SLACK, "UANA", ana)
    approval = pending(ana)
    with django_capture_on_commit_callbacks(execute=True):
        first = click(client, approval.pk, user_id="UANA", reply=fake_slack.url + "/hooks/reply/1")
        second = click(client, approval.pk, user_id="UANA", reply=fake_slack.url + "/hooks/reply/1")
    assert first.status_code == 200 and second.status_code == 200
    replies = [body for path, _auth, body in fake_slack.calls if path == "/hooks/reply/1"]
    assert [r["text"] for r in replies] == [
        f"You approved {asked_change.reference}.",
        f"Nothing named #{approval.pk} waits for your approval (already decided, or not asked of you).",
    ]
    assert replies[0]["replace_original"] is True
    assert Approval.objects.filter(decision="approved").count() == 1


def test_the_reject_button_asks_for_a_reason_and_forged_clicks_are_refused(
    client: Client,
    slack_app: ChatApp,
    asked_change: Change,
    cab: tuple[SupportGroup, list[User]],
    fake_slack: FakeSlack,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana = cab[1][0]
    link(ChatApp.Kind.SLACK, "UANA", ana)
    approval = pending(ana)
    with django_capture_on_commit_callbacks(execute=True):
        click(client, approval.pk, user_id="UANA", action="approval_reject", reply=fake_slack.url + "/hooks/r")
        # an answer address outside Slack's is never posted to
        click(client, approval.pk, user_id="UANA", action="approval_reject", reply="http://127.0.0.1:9/elsewhere")
    assert [body["text"] for _p, _a, body in fake_slack.calls] == [
        f"Say why you reject it, the requester reads it: “reject {asked_change.reference} <why>”."
    ]
    payload = json.dumps(
        {
            "type": "block_actions",
            "user": {"id": "UANA"},
            "actions": [{"action_id": "approval_approve", "value": str(approval.pk)}],
        }
    )
    forged = client.post(
        INTERACTIVE,
        data=urlencode({"payload": payload}),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP="1",
        HTTP_X_SLACK_SIGNATURE="v0=00",
    )
    assert forged.status_code == 401
    assert pending(ana).decision == Approval.Decision.PENDING


def test_a_linked_approver_gets_the_request_in_slack_once(
    monkeypatch: pytest.MonkeyPatch,
    slack_app: ChatApp,
    agent: User,
    admin_user: User,
    cab: tuple[SupportGroup, list[User]],
    fake_slack: FakeSlack,
) -> None:
    monkeypatch.setenv("PALIER_TEST_SLACK_BOT", "xoxb-test-token")
    ChatApp.objects.filter(pk=slack_app.pk).update(bot_token_env="PALIER_TEST_SLACK_BOT")
    group, (ana, ben, _cyd) = cab
    link(ChatApp.Kind.SLACK, "UANA", ana)  # Ben has no Slack account linked
    on_path(admin_user, group)
    change = ask(ready_change(agent), agent)
    items = OutboxItem.objects.filter(kind="chat.approval_request")
    assert [item.payload["approval"] for item in items] == [pending(ana).pk]
    outbox.run_due()
    outbox.run(items.get().pk)  # a retried run sends nothing more
    posts = [(path, auth, body) for path, auth, body in fake_slack.calls if path == "/api/chat.postMessage"]
    assert len(posts) == 1
    _path, auth, body = posts[0]
    assert auth == "Bearer xoxb-test-token" and body["channel"] == "UANA"
    assert change.reference in body["text"]
    buttons = body["blocks"][-1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("approval_approve", str(pending(ana).pk)),
        ("approval_reject", str(pending(ana).pk)),
    ]
    assert pending(ben).decision == Approval.Decision.PENDING


def test_slack_refusing_the_message_marks_it_failed_without_retrying(
    monkeypatch: pytest.MonkeyPatch,
    slack_app: ChatApp,
    agent: User,
    admin_user: User,
    cab: tuple[SupportGroup, list[User]],
    fake_slack: FakeSlack,
) -> None:
    monkeypatch.setenv("PALIER_TEST_SLACK_BOT", "xoxb-test-token")
    ChatApp.objects.filter(pk=slack_app.pk).update(bot_token_env="PALIER_TEST_SLACK_BOT")
    group, (ana, _ben, _cyd) = cab
    link(ChatApp.Kind.SLACK, "UANA", ana)
    on_path(admin_user, group)
    ask(ready_change(agent), agent)
    fake_slack.answer = {"ok": False, "error": "channel_not_found"}
    outbox.run_due()
    item = OutboxItem.objects.get(kind="chat.approval_request")
    assert item.state == OutboxItem.State.FAILED and "channel_not_found" in item.last_error


def test_no_bot_token_no_direct_message(
    slack_app: ChatApp,
    agent: User,
    admin_user: User,
    cab: tuple[SupportGroup, list[User]],
) -> None:
    group, (ana, _ben, _cyd) = cab
    link(ChatApp.Kind.SLACK, "UANA", ana)
    on_path(admin_user, group)
    ask(ready_change(agent), agent)
    assert not OutboxItem.objects.filter(kind="chat.approval_request").exists()
