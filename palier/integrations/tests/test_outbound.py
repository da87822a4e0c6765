"""Outgoing Slack and Teams webhooks against a local HTTP server, with retries."""

from __future__ import annotations

from typing import Any

import pytest

from palier.integrations import outbound
from palier.integrations.tests.conftest import Receiver


def test_post_slack_delivers_the_text(receiver: Receiver, db: None, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        outbound.post_slack(receiver.url, "INC-1 opened")
    assert receiver.bodies == [{"text": "INC-1 opened"}]


def test_post_teams_sends_an_adaptive_card(
    receiver: Receiver, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        outbound.post_teams(receiver.url, title="New ticket", text="INC-1 Printer", facts={"Priority": "P2"})
    [message] = receiver.bodies
    attachment = message["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["body"][2]["facts"] == [{"title": "Priority", "value": "P2"}]


def test_server_errors_are_retried_until_accepted(
    receiver: Receiver, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.statuses = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        outbound.post_slack(receiver.url, "INC-2 opened")
    assert len(receiver.bodies) == 3  # two refusals, then delivered


def test_retries_stop_after_the_last_delay(
    receiver: Receiver, db: None, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.statuses = [500] * 10
    with django_capture_on_commit_callbacks(execute=True):
        outbound.post_slack(receiver.url, "INC-3 opened")
    assert len(receiver.bodies) == len(outbound.RETRY_DELAYS) + 1


def test_client_errors_are_not_retried(receiver: Receiver, db: None, django_capture_on_commit_callbacks: Any) -> None:
    receiver.statuses = [404]
    with django_capture_on_commit_callbacks(execute=True):
        outbound.post_slack(receiver.url, "INC-4 opened")
    assert len(receiver.bodies) == 1


def test_unreachable_server_is_a_retryable_error() -> None:
    with pytest.raises(outbound.DeliveryError) as failed:
        outbound.send_json("http://127.0.0.1:9/hook", {"text": "x"}, timeout=1)
    assert failed.value.retryable


def test_only_http_addresses() -> None:
    with pytest.raises(outbound.DeliveryError) as failed:
        outbound.send_json("file:///etc/passwd", {})
    assert not failed.value.retryable
