"""The mailbox admin pages: list with health, create, edit (write-only password), deactivate,
test connection; per-field refusals change nothing; admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.mail.models import Mailbox
from palier.mail.tests import conftest as mail_fixtures
from palier.mail.tests.dovecot import free_port
from palier.people.models import User

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}

_fresh_desk_addresses = mail_fixtures._fresh_desk_addresses


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Support", "address": "support@palier.test", "is_active": "on", "imap_host": "imap.palier.test",
        "imap_port": "993", "imap_tls": "on", "imap_user": "", "password": "first-pw", "password_env": "",
        "folder": "INBOX", "poll_interval_seconds": "60", "oauth_provider": "", "oauth_tenant": "",
        "oauth_client_id": "", "oauth_secret_env": "", "target_kind": "incident", "target_group": "",
        "target_category": "", "allowed_sender_domains": "acme.test\n@Globex.test", "create_unknown_senders": "on",
        "cc_become_watchers": "on", "authserv_id": "", "unverified_reply": "new_ticket",
    }  # fmt: skip
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def test_create_then_edit_keeps_the_password_when_left_blank(admin_client: Client) -> None:
    response = admin_client.post(reverse("mail:mailboxes"), _form(), **EN)
    mailbox = Mailbox.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("mail:mailbox-edit", args=[mailbox.pk])
    assert mailbox.get_password() == "first-pw" and "first-pw" not in mailbox.password_encrypted
    assert mailbox.domains == ["acme.test", "globex.test"]
    page = admin_client.get(response["Location"], **EN).content.decode()
    assert "first-pw" not in page and mailbox.password_encrypted not in page  # write-only
    admin_client.post(response["Location"], _form(password="", folder="Support", poll_interval_seconds="300"))
    mailbox.refresh_from_db()
    assert (mailbox.folder, mailbox.poll_interval_seconds, mailbox.get_password()) == ("Support", 300, "first-pw")
    admin_client.post(response["Location"], _form(password="second-pw"))
    mailbox.refresh_from_db()
    assert mailbox.get_password() == "second-pw"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"imap_port": "70000"}, "imap_port", "A port between 1 and 65535."),
        ({"imap_port": "143"}, "imap_tls", "Port 143 is plain IMAP"),
        ({"folder": "  "}, "folder", "Name the folder to read"),
        ({"allowed_sender_domains": "acme.test\nnot a domain"}, "allowed_sender_domains", "Not a domain name: not"),
        ({"password": ""}, "password", "Enter the password, or the environment variable"),
        ({"address": "nope"}, "address", "Enter a valid email address."),
        ({"poll_interval_seconds": "1"}, "poll_interval_seconds", "Between 10 and 86400 seconds."),
        ({"oauth_provider": "microsoft"}, "oauth_tenant", "Microsoft 365 needs the tenant"),
        ({"oauth_provider": "google"}, "oauth_secret_env", "path of its file"),
        ({"password_env": "1BAD-NAME"}, "password_env", "An environment variable name"),
        ({"require_sender_authentication": "on"}, "authserv_id", "needs the authserv-id"),
        ({"authserv_id": "mx.acme.test; dmarc=pass"}, "authserv_id", "The authserv-id is one word"),
    ],
)
def test_bad_values_are_refused_per_field(
    admin_client: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    response = admin_client.post(reverse("mail:mailboxes"), _form(**overrides), **EN)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Mailbox.objects.exists()


def test_sender_authentication_settings_are_saved(admin_client: Client) -> None:
    data = _form(authserv_id="MX.Palier.test", require_sender_authentication="on", unverified_reply="quarantine")
    assert admin_client.post(reverse("mail:mailboxes"), data).status_code == 302  # acknowledge_trusted_only off
    mailbox = Mailbox.objects.get()
    assert not mailbox.acknowledge_trusted_only
    assert (mailbox.authserv_id, mailbox.require_sender_authentication, mailbox.unverified_reply) == (
        "mx.palier.test", True, "quarantine",
    )  # fmt: skip
    page = admin_client.get(reverse("mail:mailbox-edit", args=[mailbox.pk]), **EN).content.decode()
    assert "Trusted authserv-id" in page and 'value="mx.palier.test"' in page
    Mailbox.objects.create(name="Old", address="old@palier.test")
    listing = admin_client.get(reverse("mail:mailboxes"), **EN).content.decode()
    assert "Required" in listing and "Off: senders can be forged" in listing


def test_oauth_mailbox_needs_no_password(admin_client: Client) -> None:
    data = _form(password="", oauth_provider="microsoft", oauth_tenant="contoso.onmicrosoft.com",
                 oauth_client_id="abc", oauth_secret_env="PALIER_SECRET_M365")  # fmt: skip
    assert admin_client.post(reverse("mail:mailboxes"), data).status_code == 302
    assert Mailbox.objects.get().oauth_provider == "microsoft"


def test_duplicate_address_is_refused_on_edit(admin_client: Client) -> None:
    Mailbox.objects.create(name="Other", address="other@palier.test")
    mailbox = Mailbox.objects.create(name="Support", address="support@palier.test")
    url = reverse("mail:mailbox-edit", args=[mailbox.pk])
    response = admin_client.post(url, _form(address="OTHER@palier.test"), **EN)
    assert response.status_code == 400
    assert response.context["form"].errors["address"] == ["Another mailbox already reads this address."]
    mailbox.refresh_from_db()
    assert mailbox.address == "support@palier.test" and mailbox.password_encrypted == ""


def test_deactivate_and_test_connection(admin_client: Client) -> None:
    mailbox = Mailbox(name="Support", address="support@palier.test", imap_host="127.0.0.1", imap_port=free_port(),
                      imap_tls=False)  # fmt: skip
    mailbox.set_password("pw")
    mailbox.save()
    response = admin_client.post(reverse("mail:mailbox-test", args=[mailbox.pk]), follow=True, **EN)
    assert "Connection failed: ConnectionRefusedError" in response.content.decode()
    mailbox.refresh_from_db()
    assert mailbox.consecutive_failures == 0  # a test does not count as a poll
    response = admin_client.post(reverse("mail:mailbox-active", args=[mailbox.pk]), {"active": "0"}, follow=True, **EN)
    assert "is deactivated: it is no longer read" in response.content.decode()
    mailbox.refresh_from_db()
    assert not mailbox.is_active


def test_list_is_paginated_with_constant_queries(admin_client: Client, django_assert_max_num_queries: Any) -> None:
    Mailbox.objects.bulk_create(Mailbox(name=f"box {n:03}", address=f"box{n}@palier.test") for n in range(60))
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("mail:mailboxes"), **EN).content.decode()
    assert "box 049" in page and "box 050" not in page and "Page 1 of 2" in page


@pytest.mark.parametrize("persona", ["agent", "requester"])
def test_only_admins(db: None, client: Client, persona: str, request: pytest.FixtureRequest) -> None:
    mailbox = Mailbox.objects.create(name="Support", address="support@palier.test")
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("mail:mailboxes")).status_code == 404
    assert client.post(reverse("mail:mailbox-active", args=[mailbox.pk]), {"active": "0"}).status_code == 404
    assert Mailbox.objects.get().is_active
