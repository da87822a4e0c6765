"""Approvals decided from a card (Action.Execute and Action.Submit), once, by the person asked;
and the connector's delivery through the outbox: token cached, retried, never lost."""

from __future__ import annotations

from typing import Any

import pytest

from palier.catalog.models import Approval
from palier.catalog.tests.builders import make_item, submit
from palier.core import outbox
from palier.core.models import OutboxItem
from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.notifications.models import NotificationPreference
from palier.people.models import User
from palier.teamsbot.tests.conftest import AAD, Microsoft, Post, load


@pytest.fixture
def approver(bot: ChatApp, requester: User, post: Post, microsoft: Microsoft) -> User:
    """The linked person, who talked to the bot once (Palier knows their conversation)."""
    User.objects.filter(pk=requester.pk).update(language="en")
    requester.language = "en"
    chat.link_identity(kind=ChatApp.Kind.TEAMS, external_id=AAD, user=requester, by=None)
    post(load("personal_message", microsoft, text="help"))
    return requester


def asked_of(approver: User, someone: User, capture: Any) -> Approval:
    item = make_item(name="Laptop", stages=[{"kind": "people", "people": [approver]}])
    with capture(execute=True):
        submit(item, someone)
    return Approval.objects.get(approver=approver)


def execute(post: Post, microsoft: Microsoft, number: int, verb: str, data: dict[str, Any]) -> Any:
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}
    return post(load("invoke_execute", microsoft, id=f"invoke-{number}", value=value))


def test_an_approval_card_reaches_the_approver_and_approves_once(
    approver: User, requester_b: User, post: Post, microsoft: Microsoft, django_capture_on_commit_callbacks: Any
) -> None:
    approval = asked_of(approver, requester_b, django_capture_on_commit_callbacks)
    card = microsoft.cards()[-1]
    assert "Your approval is asked" in str(card)
    assert [a["data"]["palier"] for a in card["actions"]] == ["approve", "reject"]

    answer = execute(post, microsoft, 1, "approve", {"approval": approval.pk})
    assert answer.status_code == 200
    body = answer.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "You approved it." in str(body["value"])  # the updated card, in the answer
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.APPROVED and approval.via == "teams"

    again = execute(post, microsoft, 2, "approve", {"approval": approval.pk})  # a double click
    assert "Already done" in str(again.json()["value"])
    assert Approval.objects.filter(decision=Approval.Decision.APPROVED).count() == 1


def test_reject_needs_a_reason_and_nothing_is_recorded_without(
    approver: User, requester_b: User, post: Post, microsoft: Microsoft, django_capture_on_commit_callbacks: Any
) -> None:
    approval = asked_of(approver, requester_b, django_capture_on_commit_callbacks)
    refused = execute(post, microsoft, 1, "reject", {"approval": approval.pk, "comment": ""})
    assert "Not done" in str(refused.json()["value"])
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.PENDING
    # the same button with a reason now works: the refused click was not remembered
    done = execute(post, microsoft, 2, "reject", {"approval": approval.pk, "comment": "Pas de budget"})
    assert "You rejected it." in str(done.json()["value"])
    approval.refresh_from_db()
    assert approval.decision == Approval.Decision.REJECTED and approval.comment == "Pas de budget"


def test_nobody_else_decides_an_approval_from_a_card(
    approver: User,
    requester_b: User,
    outsider: User,
    post: Post,
    microsoft: Microsoft,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The card's data names an approval; only its approver may decide it."""
    item = make_item(name="Phone", stages=[{"kind": "people", "people": [outsider]}])
    with django_capture_on_commit_callbacks(execute=True):
        submit(item, requester_b)
    theirs = Approval.objects.get(approver=outsider)
    answer = execute(post, microsoft, 1, "approve", {"approval": theirs.pk})
    assert "Nothing waits for your decision" in str(answer.json()["value"])
    theirs.refresh_from_db()
    assert theirs.decision == Approval.Decision.PENDING


def test_teams_off_in_preferences_sends_no_approval_card(
    approver: User, requester_b: User, microsoft: Microsoft, django_capture_on_commit_callbacks: Any
) -> None:
    NotificationPreference.objects.create(
        user=approver, event="approval", channel=NotificationPreference.Channel.TEAMS, enabled=False
    )
    before = len(microsoft.cards())
    asked_of(approver, requester_b, django_capture_on_commit_callbacks)
    assert len(microsoft.cards()) == before


def test_the_token_is_asked_once_and_reused(approver: User, post: Post, microsoft: Microsoft) -> None:
    post(load("personal_message", microsoft, id="again", text="help"))
    assert len(microsoft.connector_calls()) == 2
    assert len(microsoft.token_calls()) == 1


def test_a_connector_outage_is_retried_until_delivered(approver: User, post: Post, microsoft: Microsoft) -> None:
    microsoft.connector_statuses = [503, 429]
    post(load("personal_message", microsoft, id="outage", text="help"))
    item = OutboxItem.objects.filter(kind="teams.send").order_by("-pk").first()
    assert item is not None and item.state == OutboxItem.State.PENDING and "503" in item.last_error
    OutboxItem.objects.filter(pk=item.pk).update(next_attempt_at=item.created_at)
    assert outbox.run(item.pk) == OutboxItem.State.PENDING  # 429: later again
    OutboxItem.objects.filter(pk=item.pk).update(next_attempt_at=item.created_at)
    assert outbox.run(item.pk) == OutboxItem.State.DONE
    assert len([c for c in microsoft.connector_calls() if c.method == "POST"]) == 4  # 1 before + 3 tries


def test_a_refused_secret_marks_the_message_failed_for_the_admins(
    bot: ChatApp, requester: User, post: Post, microsoft: Microsoft
) -> None:
    microsoft.token_status = 401
    post(load("personal_message", microsoft))
    item = OutboxItem.objects.get(kind="teams.send")
    assert item.state == OutboxItem.State.FAILED and "refused the credentials" in item.last_error
    assert not microsoft.connector_calls()


def test_a_revoked_token_is_asked_again(approver: User, post: Post, microsoft: Microsoft) -> None:
    microsoft.connector_statuses = [401]
    post(load("personal_message", microsoft, id="revoked", text="help"))
    item = OutboxItem.objects.filter(kind="teams.send").order_by("-pk").first()
    assert item is not None and item.state == OutboxItem.State.PENDING
    OutboxItem.objects.filter(pk=item.pk).update(next_attempt_at=item.created_at)
    assert outbox.run(item.pk) == OutboxItem.State.DONE
    assert len(microsoft.token_calls()) == 2
