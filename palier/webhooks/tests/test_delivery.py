"""Deliveries to a real local receiver: the signed payload, exactly once per event and
subscription, retries with backoff, disabling after repeated failures, redelivery."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from palier.changes.services import create_change
from palier.notifications.models import OutgoingEmail
from palier.people.models import User
from palier.problems.services import create_problem
from palier.tickets import services as ticket_services
from palier.tickets.models import TicketEvent
from palier.tickets.tests.builders import make_ticket
from palier.webhooks import services
from palier.webhooks.models import Attempt, Delivery, Subscription
from palier.webhooks.services import delivery as engine

from .receiver import Receiver, verify

pytestmark = pytest.mark.django_db


def test_a_new_ticket_reaches_the_receiver_signed_and_versioned(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    issued = subscribe(["ticket.created"])
    ticket = make_ticket(requester)
    pump()
    assert len(local.received) == 1
    request = local.received[0]
    assert request.path == "/palier-hook?x=1"
    assert verify(issued.secret, request.body, request.headers["X-Palier-Signature"])
    assert not verify("another secret of the same length!", request.body, request.headers["X-Palier-Signature"])
    assert not verify(issued.secret, request.body + b" ", request.headers["X-Palier-Signature"])
    body = json.loads(request.body)
    assert body["version"] == 1 and request.headers["X-Palier-Webhook-Version"] == "1"
    assert body["type"] == "ticket.created" == request.headers["X-Palier-Event"]
    assert body["id"] == request.headers["X-Palier-Delivery"]
    assert body["data"]["ticket"]["reference"] == ticket.reference
    assert body["data"]["ticket"]["requester"]["email"] == requester.email
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status, delivery.attempts) == ("delivered", 200, 1)
    assert list(Attempt.objects.values_list("status_code", flat=True)) == [200]


def test_only_the_types_asked_for_are_sent(
    requester: User, agent: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    subscribe(["ticket.status_changed", "ticket.commented"])
    ticket = make_ticket(requester)
    ticket_services.comment_on_ticket(ticket, by=requester, body="Toujours en panne")
    pump()
    types = [json.loads(r.body)["type"] for r in local.received]
    assert types == ["ticket.commented"]


def test_each_event_is_delivered_once_even_when_handed_over_and_run_twice(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    subscribe(["ticket.created"])
    subscribe(["ticket.created"], name="Second receiver")
    make_ticket(requester)
    events = list(TicketEvent.objects.select_related("ticket", "actor"))
    engine.consume(events)
    engine.consume(events)  # a stream batch handed over again after a crash
    pump()
    engine.run_due()
    engine.run_due()
    assert Delivery.objects.count() == 2
    assert len(local.received) == 2
    assert len({r.headers["X-Palier-Delivery"] for r in local.received}) == 2
    assert {r.headers["X-Palier-Delivery"] for r in local.received} == {
        str(d) for d in Delivery.objects.values_list("delivery_id", flat=True)
    }


def test_failures_are_retried_with_backoff_and_each_attempt_logged(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    subscribe(["ticket.created"])
    local.statuses = [503, 500]
    start = timezone.now()
    make_ticket(requester)
    pump()
    delivery = Delivery.objects.get()
    assert delivery.state == "pending" and delivery.last_status == 503
    assert timedelta(seconds=9) < delivery.next_attempt_at - start < timedelta(seconds=15)
    engine.run_due(now=start + timedelta(seconds=5))  # not due yet
    assert len(local.received) == 1
    engine.run_due(now=start + timedelta(seconds=16))
    delivery.refresh_from_db()
    assert delivery.last_status == 500
    assert timedelta(seconds=60) < delivery.next_attempt_at - start < timedelta(seconds=80)
    engine.run_due(now=start + timedelta(seconds=90))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("delivered", 3)
    assert list(Attempt.objects.order_by("id").values_list("status_code", flat=True)) == [503, 500, 200]
    assert len({r.headers["X-Palier-Delivery"] for r in local.received}) == 1
    signatures = [r.headers["X-Palier-Signature"] for r in local.received]
    assert all(s.startswith("t=") for s in signatures)


def test_a_receiver_that_is_down_gets_everything_once_it_is_back(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int], settings: Any
) -> None:
    issued = subscribe(["ticket.created"])
    Subscription.objects.filter(pk=issued.subscription.pk).update(url="http://127.0.0.1:9/closed")
    for _ in range(3):
        make_ticket(requester)
    pump()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"pending"}
    assert all(a.status_code is None and a.error.startswith("network") for a in Attempt.objects.all())
    Subscription.objects.filter(pk=issued.subscription.pk).update(url=local.url)
    engine.run_due(now=timezone.now() + timedelta(seconds=15))
    assert len(local.received) == 3 and set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    requester: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    subscribe(["ticket.created"])
    local.statuses = [302]
    make_ticket(requester)
    pump()
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status) == ("pending", 302)
    assert len(local.received) == 1


def test_repeated_failures_turn_the_subscription_off_and_tell_the_admins(
    requester: User,
    admin_user: User,
    local: Receiver,
    subscribe: Callable[..., Any],
    pump: Callable[[], int],
    settings: Any,
) -> None:
    settings.PALIER_WEBHOOKS_DISABLE_AFTER = 3
    settings.PALIER_WEBHOOKS_DISABLE_HOURS = 0
    issued = subscribe(["ticket.created"])
    local.always = 500
    for _ in range(2):
        make_ticket(requester)
    pump()
    assert Subscription.objects.get().is_active  # two failures: still on
    later = timezone.now() + timedelta(seconds=15)
    engine.run_due(now=later)
    sub = Subscription.objects.get()
    assert not sub.is_active and sub.disabled_reason == "failures" and sub.consecutive_failures >= 3
    mails = list(OutgoingEmail.objects.filter(address=admin_user.email))
    assert len(mails) == 1 and "Receiver" in mails[0].subject
    # off: its deliveries wait, untouched
    sent = len(local.received)
    engine.run_due(now=later + timedelta(hours=2))
    assert len(local.received) == sent
    assert set(Delivery.objects.values_list("state", flat=True)) == {"pending"}
    # an administrator fixes the receiver and turns it back on: everything goes out
    local.always = 200
    services.enable_subscription(issued.subscription, by=admin_user)
    engine.run_due()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    assert Subscription.objects.get().consecutive_failures == 0
    engine.run_due(now=later)  # the same failure streak never mails twice
    assert OutgoingEmail.objects.filter(address=admin_user.email).count() == 1


def test_an_administrator_redelivers_with_the_same_delivery_id(
    requester: User, admin_user: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    issued = subscribe(["ticket.created"])
    make_ticket(requester)
    pump()
    delivery = Delivery.objects.get()
    with pytest.raises(Exception):  # noqa: B017  (PermissionDenied: not an administrator)
        services.redeliver(delivery, by=requester)
    services.redeliver(delivery, by=admin_user)
    engine.run_due()
    assert len(local.received) == 2
    first, second = local.received
    assert first.body == second.body
    assert first.headers["X-Palier-Delivery"] == second.headers["X-Palier-Delivery"]
    assert verify(issued.secret, second.body, second.headers["X-Palier-Signature"])
    assert Attempt.objects.filter(delivery=delivery).count() == 2


def test_problem_and_change_events_are_delivered(
    admin_user: User, local: Receiver, subscribe: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    subscribe(["problem.created", "change.created"])
    with django_capture_on_commit_callbacks(execute=True):
        problem = create_problem(by=admin_user, title="Imprimantes qui perdent le réseau")
    change = create_change(by=admin_user, kind="normal", title="Mettre à jour le firmware")
    assert Delivery.objects.filter(event_type="change.created").count() == 1  # in the change's transaction
    engine.run_due()
    bodies = [json.loads(r.body) for r in local.received]
    assert [b["type"] for b in bodies] == ["problem.created", "change.created"]
    assert bodies[0]["data"]["problem"]["reference"] == problem.reference
    assert bodies[1]["data"]["change"]["reference"] == change.reference


def test_a_disabled_subscription_gets_no_new_deliveries(
    requester: User, admin_user: User, local: Receiver, subscribe: Callable[..., Any], pump: Callable[[], int]
) -> None:
    issued = subscribe(["ticket.created"])
    services.update_subscription(issued.subscription, by=admin_user, is_active=False)
    make_ticket(requester)
    pump()
    assert Delivery.objects.count() == 0 and local.received == []
