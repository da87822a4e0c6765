"""The OpenID Connect provider admin pages: add, change (write-only secret), switch on and off,
test, delete; refused input changes nothing; a provider from the configuration file is
read-only; administrators only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from palier.audit.models import AuditEvent
from palier.identity.models import Provider
from palier.identity.oidc import clean_config
from palier.mail import secrets as stored_secrets
from palier.people.models import User
from testsupport.oidc_provider import OidcServer

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
URL = "/agent/identity/oidc/"


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Contoso", "slug": "contoso", "label_en": "Contoso account", "label_fr": "Compte Contoso",
        "position": "0", "issuer": "https://login.example.com/tenant/v2.0", "client_id": "palier-app",
        "client_secret": "s3cret-value", "client_secret_env": "", "scopes": "openid email profile",
        "token_endpoint_auth_method": "client_secret_basic", "claim_email": "email",
        "claim_email_verified": "email_verified", "claim_name": "name", "claim_language": "locale",
        "claim_groups": "groups", "mfa_amr_values": "mfa", "mfa_acr_values": "", "create_accounts": "on",
        "default_role": "requester", "default_organisation": "", "organisation_by_domain": "on",
        "role_map": "desk-agents = agent", "group_map": "desk-agents = Network L2, Triage",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_only_administrators_see_the_pages(client: Client, agent: User, db: None) -> None:
    assert client.get(URL).status_code == 302  # to the sign-in page
    client.force_login(agent)
    assert client.get(URL).status_code == 404
    assert client.post(URL, _form()).status_code == 404
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"issuer": "http://login.example.com"}, "issuer", b"must use https://"),
        ({"scopes": "email profile"}, "scopes", b"must include openid"),
        ({"client_secret": "", "client_secret_env": "DATABASE_URL"}, "client_secret_env", b"PALIER_SECRET_"),
        ({"role_map": "desk-agents = root"}, "role_map", b"Unknown role"),
        ({"group_map": "just words"}, "group_map", b"write group = value"),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(
    admin_client: Client, overrides: dict[str, Any], field: str, message: bytes
) -> None:
    response = admin_client.post(URL, _form(**overrides), **EN)
    assert response.status_code == 400
    assert message in response.content and f'id="id_{field}_error"'.encode() in response.content
    assert b"s3cret-value" not in response.content  # the secret is never sent back, even refused
    assert not Provider.objects.exists()


def test_add_change_switch_and_delete_a_provider(admin_client: Client) -> None:
    response = admin_client.post(URL, _form(), **EN)
    provider = Provider.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{URL}{provider.pk}/"
    assert provider.kind == "oidc" and not provider.enabled
    assert stored_secrets.decrypt(provider.secret) == "s3cret-value" and "s3cret" not in str(provider.config)
    assert provider.role_map == {"desk-agents": "agent"}
    assert provider.group_map == {"desk-agents": ["Network L2", "Triage"]}

    page = admin_client.get(f"{URL}{provider.pk}/", **EN)
    assert b"s3cret-value" not in page.content and b"(stored)" in page.content
    assert b"http://127.0.0.1:8000/accounts/oidc/contoso/callback/" in page.content

    # an empty secret keeps the stored one; other settings change
    admin_client.post(f"{URL}{provider.pk}/", _form(client_secret="", claim_groups="roles"), **EN)
    provider.refresh_from_db()
    assert stored_secrets.decrypt(provider.secret) == "s3cret-value" and provider.config["claim_groups"] == "roles"

    admin_client.post(f"{URL}{provider.pk}/enabled/", {"enabled": "1"})
    provider.refresh_from_db()
    assert provider.enabled
    assert b"Contoso account" in Client().get("/accounts/login/", **EN).content
    admin_client.post(f"{URL}{provider.pk}/enabled/", {"enabled": "0"})
    provider.refresh_from_db()
    assert not provider.enabled

    admin_client.post(f"{URL}{provider.pk}/delete/")
    assert not Provider.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="identity.provider")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "identity.provider_created", "identity.provider_changed", "identity.provider_enabled",
        "identity.provider_disabled", "identity.provider_deleted",
    ]  # fmt: skip
    assert all("s3cret" not in str(e.changes) for e in AuditEvent.objects.all())


def test_a_provider_without_a_secret_cannot_be_switched_on(admin_client: Client) -> None:
    admin_client.post(URL, _form(client_secret=""))
    provider = Provider.objects.get()
    response = admin_client.post(f"{URL}{provider.pk}/enabled/", {"enabled": "1"}, follow=True, **EN)
    assert b"Save a client secret" in response.content
    provider.refresh_from_db()
    assert not provider.enabled


def test_the_test_button_shows_each_check(admin_client: Client, oidc_server: OidcServer) -> None:
    admin_client.post(URL, _form(issuer=oidc_server.issuer))
    provider = Provider.objects.get()
    response = admin_client.post(f"{URL}{provider.pk}/test/", **EN)
    assert response.status_code == 200
    assert b'id="checks"' in response.content and b"Signing keys" in response.content
    assert b"list-group-item-danger" not in response.content


def test_a_provider_from_the_configuration_file_is_read_only(admin_client: Client) -> None:
    provider = Provider.objects.create(
        slug="file",
        name="From file",
        kind="oidc",
        config=clean_config({"issuer": "https://login.example.com", "client_id": "x"}),
        secret_env="PALIER_SECRET_FILE",
        from_environment=True,
    )
    page = admin_client.get(f"{URL}{provider.pk}/", **EN)
    assert b"comes from the configuration file" in page.content and b'name="issuer"' not in page.content
    assert admin_client.post(f"{URL}{provider.pk}/", _form(name="Changed")).status_code == 403
    assert admin_client.post(f"{URL}{provider.pk}/delete/").status_code == 403
    assert admin_client.post(f"{URL}{provider.pk}/enabled/", {"enabled": "1"}).status_code == 403
    provider.refresh_from_db()
    assert provider.name == "From file" and not provider.enabled
