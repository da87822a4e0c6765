"""Webhook subscription pages: administrators only; the secret shown once and never again; the
delivery log with its attempts in a fixed number of queries; redeliver; turn back on."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from palier.people.models import User
from palier.tickets import stream
from palier.tickets.tests.builders import make_ticket
from palier.webhooks import services
from palier.webhooks.models import Attempt, Delivery, Subscription
from palier.webhooks.services import delivery as engine
from palier.webhooks.tests.receiver import Receiver, receiver


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    """These tests read the English messages: people without a language get English here (French,
    the product's default, is checked by the catalogs' tests)."""
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def local(settings: Any, db: None) -> Any:
    settings.PALIER_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PALIER_WEBHOOKS_ALLOW_HTTP = True
    stream.skip_to_end()
    with receiver() as server:
        yield server


@pytest.mark.parametrize("url", ["/agent/webhooks/", "/agent/webhooks/1/"])
def test_pages_are_for_admins_only(client: Client, agent: User, manager: User, url: str) -> None:
    assert client.get(url).status_code == 302  # sign in first
    for user in (agent, manager):
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_a_non_admin_cannot_post_a_subscription(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.post(
        "/agent/webhooks/", {"name": "x", "url": "https://93.184.215.14/", "event_types": "ticket.created"}
    )
    assert response.status_code == 404 and Subscription.objects.count() == 0


def test_create_shows_the_secret_once(admin_client: Client, local: Receiver) -> None:
    response = admin_client.post(
        "/agent/webhooks/", {"name": "Intranet", "url": local.url, "event_types": ["ticket.created", "sla.breach"]}
    )
    assert response.status_code == 200
    issued = response.context["issued"]
    assert issued.secret.encode() in response.content
    sub = Subscription.objects.get()
    assert sub.event_types == ["sla.breach", "ticket.created"]
    assert issued.secret not in sub.secret_encrypted
    for page in ("/agent/webhooks/", f"/agent/webhooks/{sub.pk}/"):
        assert issued.secret.encode() not in admin_client.get(page).content


def test_a_refused_address_is_explained_and_nothing_saved(admin_client: Client) -> None:
    response = admin_client.post(
        "/agent/webhooks/", {"name": "Metadata", "url": "https://169.254.169.254/", "event_types": ["ticket.created"]}
    )
    assert response.status_code == 400
    assert "private" in " ".join(response.context["form"].errors["url"])
    assert Subscription.objects.count() == 0


def test_the_delivery_log_shows_attempts_and_redelivers(
    admin_client: Client,
    admin_user: User,
    requester: User,
    local: Receiver,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    issued = services.create_subscription(by=admin_user, name="Intranet", url=local.url, event_types=["ticket.created"])
    local.statuses = [500] * 3
    for _ in range(3):
        make_ticket(requester)
    with django_capture_on_commit_callbacks(execute=True):
        stream.pump("webhooks")
    engine.run_due()
    page = f"/agent/webhooks/{issued.subscription.pk}/"
    with django_assert_max_num_queries(12):
        response = admin_client.get(page)
    assert response.status_code == 200
    assert b"HTTP 500" in response.content and response.content.count(b"Redeliver") == 3
    for _ in range(20):
        make_ticket(requester)
    with django_capture_on_commit_callbacks(execute=True):
        stream.pump("webhooks")
    with django_assert_max_num_queries(12):  # as many queries for 23 deliveries as for 3
        assert admin_client.get(page).status_code == 200
    failed = Delivery.objects.filter(last_status=500).first()
    assert failed is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{page}deliveries/{failed.delivery_id}/redeliver/")
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == "delivered" and Attempt.objects.filter(delivery=failed).count() == 2


def test_turn_off_and_back_on(admin_client: Client, admin_user: User, local: Receiver) -> None:
    issued = services.create_subscription(by=admin_user, name="Intranet", url=local.url, event_types=["ticket.created"])
    pk = issued.subscription.pk
    admin_client.post(f"/agent/webhooks/{pk}/disable/")
    assert not Subscription.objects.get().is_active
    admin_client.post(f"/agent/webhooks/{pk}/enable/")
    assert Subscription.objects.get().is_active


def test_a_new_secret_is_shown_once(admin_client: Client, admin_user: User, local: Receiver) -> None:
    issued = services.create_subscription(by=admin_user, name="Intranet", url=local.url, event_types=["ticket.created"])
    response = admin_client.post(f"/agent/webhooks/{issued.subscription.pk}/secret/")
    secret = response.context["secret"]
    assert secret != issued.secret and secret.encode() in response.content
    assert secret.encode() not in admin_client.get(f"/agent/webhooks/{issued.subscription.pk}/").content
