"""Integrations administration pages: admins only; token shown once; revoke; chat apps; links."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from palier.integrations.models import AlertSource, ChatApp, ChatIdentity
from palier.integrations.tests import conftest as integrations_fixtures
from palier.people.models import User

service_account = integrations_fixtures.service_account
make_source = integrations_fixtures.make_source


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("url", ["/hooks/admin/", "/hooks/admin/chat/", "/hooks/admin/identities/"])
def test_pages_are_for_admins_only(client: Client, agent: User, url: str) -> None:
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(agent)
    assert client.get(url).status_code == 404


def test_create_source_shows_the_token_once(admin_client: Client, service_account: User) -> None:
    response = admin_client.post(
        "/hooks/admin/",
        {"name": "Prod Prometheus", "kind": "alertmanager", "user": service_account.pk, "category_rules": ""},
    )
    assert response.status_code == 200
    source = AlertSource.objects.get()
    token = response.context["new_token"]
    assert token.startswith("plra_") and token.encode() in response.content
    assert source.token_digest != token and token not in source.token_digest
    assert token.encode() not in admin_client.get("/hooks/admin/").content


def test_bad_rules_are_refused(admin_client: Client, service_account: User) -> None:
    data = {"name": "P", "kind": "generic", "user": service_account.pk, "category_rules": "service=mail"}
    response = admin_client.post("/hooks/admin/", data)
    assert response.status_code == 400 and not AlertSource.objects.exists()
    data["category_rules"] = "service=mail no-such-category"
    response = admin_client.post("/hooks/admin/", data)
    assert response.status_code == 400 and "no-such-category" in response.content.decode()


def test_revoke(admin_client: Client, make_source: Any) -> None:
    source, _token = make_source("generic")
    admin_client.post(f"/hooks/admin/sources/{source.pk}/revoke/")
    source.refresh_from_db()
    assert not source.is_active


def test_alert_page_query_count(admin_client: Client, make_source: Any, django_assert_max_num_queries: Any) -> None:
    for number in range(3):
        make_source("generic", name=f"s{number}")
    with django_assert_max_num_queries(15):
        assert admin_client.get("/hooks/admin/").status_code == 200


def test_chat_app_page_shows_endpoints_and_secret_state(admin_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PALIER_SLACK_SECRET", "s3cret")
    response = admin_client.post(
        "/hooks/admin/chat/",
        {"kind": "slack", "name": "Acme Slack", "slug": "acme", "secret_env": "PALIER_SLACK_SECRET"},
        follow=True,
    )
    page = response.content.decode()
    assert ChatApp.objects.get().slug == "acme"
    assert "/hooks/slack/acme/events/" in page and "/hooks/slack/acme/command/" in page
    assert "s3cret" not in page
    bad = admin_client.post(
        "/hooks/admin/chat/", {"kind": "teams", "name": "T", "slug": "t", "secret_env": "lower case"}
    )
    assert bad.status_code == 400


def test_link_and_unlink_identity(admin_client: Client, requester: User) -> None:
    admin_client.post("/hooks/admin/identities/", {"kind": "slack", "external_id": "U123", "email": "alice@acme.test"})
    identity = ChatIdentity.objects.get()
    assert identity.user == requester
    missing = admin_client.post(
        "/hooks/admin/identities/", {"kind": "slack", "external_id": "U9", "email": "nobody@acme.test"}
    )
    assert missing.status_code == 400
    admin_client.post(f"/hooks/admin/identities/{identity.pk}/delete/")
    assert not ChatIdentity.objects.exists()
