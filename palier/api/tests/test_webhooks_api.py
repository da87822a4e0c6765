"""Webhook subscriptions through the API: administrators only, the secret returned once and never
read back, ETag/If-Match, Idempotency-Key, keyset pages with constant queries, the delivery log,
redelivery, and the payloads in the OpenAPI document's ``webhooks`` section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test.utils import CaptureQueriesContext

from palier.people.models import User
from palier.tickets import stream
from palier.tickets.tests.builders import make_ticket
from palier.webhooks.models import Delivery, Subscription
from palier.webhooks.tests.receiver import receiver

from .conftest import ApiClient, assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(settings: Any) -> Any:
    settings.PALIER_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PALIER_WEBHOOKS_ALLOW_HTTP = True
    stream.skip_to_end()
    with receiver() as server:
        yield server


def _create(api: ApiClient, url: str, **extra: Any) -> Any:
    body = {"name": "Intranet", "url": url, "event_types": ["ticket.created"], **extra}
    return api.call("POST", "/webhooks", body, **extra.pop("headers", {}))


def test_non_admins_cannot_subscribe_or_read(
    client_for: Callable[[User | None], ApiClient], agent: User, requester: User, local: Any
) -> None:
    for user in (agent, requester):
        api = client_for(user)
        assert_problem(_create(api, local.url), 403)
        assert_problem(api.call("GET", "/webhooks"), 403)
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://127.0.0.1/x"}, "url"),
        ({"url": "https://169.254.169.254/latest"}, "url"),
        ({"url": "https://u:p@example.com/x"}, "url"),
        ({"url": "https://[::ffff:7f00:1]/x"}, "url"),
        ({"event_types": ["ticket.exploded"]}, "event_types"),
        ({"event_types": []}, "event_types"),
    ],
)
def test_bad_subscriptions_are_refused(
    client_for: Callable[[User | None], ApiClient], admin_user: User, body: dict[str, Any], field: str
) -> None:
    payload = {"name": "Hook", "url": "https://93.184.215.14/x", "event_types": ["ticket.created"], **body}
    response = client_for(admin_user).call("POST", "/webhooks", payload)
    assert response.status_code in (400, 422)
    assert field in response.json()["errors"]
    assert Subscription.objects.count() == 0


def test_http_is_refused_unless_allowed(
    client_for: Callable[[User | None], ApiClient], admin_user: User, settings: Any
) -> None:
    settings.PALIER_WEBHOOKS_ALLOW_PRIVATE = True
    response = client_for(admin_user).call(
        "POST", "/webhooks", {"name": "Hook", "url": "http://127.0.0.1:9/x", "event_types": ["ticket.created"]}
    )
    assert response.status_code == 422 and "url" in response.json()["errors"]


def test_the_secret_is_returned_once_then_never(
    client_for: Callable[[User | None], ApiClient], admin_user: User, local: Any
) -> None:
    api = client_for(admin_user)
    response = _create(api, local.url)
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert secret and len(secret) >= 32
    sub_id = response.json()["id"]
    for path in ("/webhooks", f"/webhooks/{sub_id}"):
        text = api.call("GET", path).content.decode()
        assert secret not in text and "secret" not in text
    rotated = api.call("POST", f"/webhooks/{sub_id}/secret", {})
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, None)


def test_idempotency_key_returns_the_first_subscription(
    client_for: Callable[[User | None], ApiClient], admin_user: User, local: Any
) -> None:
    api = client_for(admin_user)
    body = {"name": "Intranet", "url": local.url, "event_types": ["ticket.created"], "secret": "s" * 32}
    first = api.call("POST", "/webhooks", body, **{"Idempotency-Key": "abc"})
    again = api.call("POST", "/webhooks", body, **{"Idempotency-Key": "abc"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and again.json()["secret"] is None
    assert Subscription.objects.count() == 1
    other = api.call("POST", "/webhooks", {**body, "name": "Other"}, **{"Idempotency-Key": "abc"})
    assert other.status_code in (409, 422)


def test_changes_need_the_current_etag(
    client_for: Callable[[User | None], ApiClient], admin_user: User, local: Any
) -> None:
    api = client_for(admin_user)
    created = _create(api, local.url)
    path = f"/webhooks/{created.json()['id']}"
    etag = api.call("GET", path)["ETag"]
    assert_problem(api.call("PATCH", path, {"name": "Renamed"}), 428)
    changed = api.call("PATCH", path, {"name": "Renamed", "event_types": ["sla.breach"]}, **{"If-Match": etag})
    assert changed.status_code == 200 and changed.json()["event_types"] == ["sla.breach"]
    assert_problem(api.call("PATCH", path, {"name": "Again"}, **{"If-Match": etag}), 412)
    assert_problem(api.call("DELETE", path, **{"If-Match": etag}), 412)
    assert api.call("DELETE", path, **{"If-Match": changed["ETag"]}).status_code == 204
    assert Subscription.objects.count() == 0


def test_lists_are_paginated_with_constant_queries(
    client_for: Callable[[User | None], ApiClient],
    admin_user: User,
    requester: User,
    local: Any,
    django_capture_on_commit_callbacks: Any,
    django_assert_max_num_queries: Any,
) -> None:
    api = client_for(admin_user)
    for n in range(3):
        _create(api, local.url, name=f"Hook {n}")
    with django_assert_max_num_queries(8):
        page = api.call("GET", "/webhooks?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.call("GET", f"/webhooks?limit=2&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    sub_id = page["items"][0]["id"]
    local.statuses = [500]
    for _ in range(5):
        make_ticket(requester)
    with django_capture_on_commit_callbacks(execute=True):
        stream.pump("webhooks")
    with CaptureQueriesContext(__import__("django.db", fromlist=["connection"]).connection) as few:
        api.call("GET", f"/webhooks/{sub_id}/deliveries?limit=2")
    with django_assert_max_num_queries(len(few.captured_queries)):
        deliveries = api.call("GET", f"/webhooks/{sub_id}/deliveries?limit=50").json()
    assert len(deliveries["items"]) == 5
    assert all(item["attempt_log"] for item in deliveries["items"])
    assert any(a["status_code"] == 500 for item in deliveries["items"] for a in item["attempt_log"])


def test_redeliver_through_the_api(
    client_for: Callable[[User | None], ApiClient],
    admin_user: User,
    requester: User,
    local: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    api = client_for(admin_user)
    sub_id = _create(api, local.url).json()["id"]
    make_ticket(requester)
    with django_capture_on_commit_callbacks(execute=True):
        stream.pump("webhooks")
    delivery = Delivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.call("POST", f"/webhooks/{sub_id}/deliveries/{delivery.delivery_id}/redeliver")
    assert response.status_code == 202
    assert len(local.received) == 2
    assert len({r.headers["X-Palier-Delivery"] for r in local.received}) == 1


def test_the_openapi_document_describes_the_payloads(
    client_for: Callable[[User | None], ApiClient], admin_user: User
) -> None:
    schema = client_for(admin_user).call("GET", "/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    hooks = schema["webhooks"]
    assert {"ticket.created", "sla.breach", "approval.decided", "problem.created", "change.status_changed"} <= set(
        hooks
    )
    ref = hooks["ticket.created"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[1]
    assert "version" in schema["components"]["schemas"][name]["properties"]
    headers = {p["name"] for p in hooks["ticket.created"]["post"]["parameters"]}
    assert {"X-Palier-Signature", "X-Palier-Webhook-Version", "X-Palier-Delivery"} <= headers
