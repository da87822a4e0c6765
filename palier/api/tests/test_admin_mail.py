"""The mail intake through the API: mailboxes with write-only secrets, the connection test, the
quarantine and its retry; nobody but an administrator."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.audit.models import AuditEvent
from palier.mail import services
from palier.mail.models import InboundMessage, Mailbox
from palier.mail.tests.dovecot import free_port

BOX = {
    "name": "Support",
    "address": "support@palier.test",
    "imap_host": "127.0.0.1",
    "imap_port": 993,
    "imap_user": "support",
    "password": "s3cret-imap-pw",
    "allowed_sender_domains": ["palier.test"],
}


def _message(sender: str, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "desk@palier.test"
    msg["Subject"] = f"Printer {n}"
    msg["Message-ID"] = f"<api-quarantine-{n}@mail.test>"
    msg.set_content("Hello")
    return msg.as_bytes()


def test_requesters_and_agents_cannot_touch_mailboxes(client_for, requester, agent):
    mailbox = Mailbox.objects.create(name="desk", address="desk@palier.test")
    for user in (requester, agent):
        client = client_for(user)
        assert_problem(client.call("GET", "/mailboxes"), 403)
        assert_problem(client.call("POST", "/mailboxes", BOX), 403)
        assert_problem(client.call("PATCH", f"/mailboxes/{mailbox.pk}", {"name": "x"}, **{"If-Match": "*"}), 403)
        assert_problem(client.call("DELETE", f"/mailboxes/{mailbox.pk}"), 403)
        assert_problem(client.call("POST", f"/mailboxes/{mailbox.pk}/test"), 403)
        assert_problem(client.call("GET", "/mail-quarantine"), 403)
        assert_problem(client.call("POST", "/mail-quarantine/1/retry"), 403)
    assert list(Mailbox.objects.values_list("name", "is_active")) == [("desk", True)]


def test_mailboxes_are_created_changed_and_deactivated_and_never_show_secrets(client_for, admin_user):
    client = client_for(admin_user)
    made = client.call("POST", "/mailboxes", BOX, **{"Idempotency-Key": "m1"})
    assert made.status_code == 201, made.content
    assert client.call("POST", "/mailboxes", BOX, **{"Idempotency-Key": "m1"}).status_code == 200
    box = made.json()
    assert box["has_password"] is True and box["has_oauth_secret"] is False
    assert box["allowed_sender_domains"] == ["palier.test"]
    stored = Mailbox.objects.get()
    responses = [made, client.get(f"{API}/mailboxes/{box['id']}"), client.get(f"{API}/mailboxes")]
    # an empty password keeps the stored one
    kept = client.call("PATCH", f"/mailboxes/{box['id']}", {"password": "", "folder": "Support"},
                       **{"If-Match": made["ETag"]})  # fmt: skip
    assert kept.status_code == 200, kept.content
    assert kept.json()["folder"] == "Support" and kept.json()["has_password"] is True
    assert Mailbox.objects.get().password_encrypted == stored.password_encrypted
    responses.append(kept)
    # the stored password never goes to another server unless sent again
    body = assert_problem(
        client.call("PATCH", f"/mailboxes/{box['id']}", {"imap_host": "evil.test"}, **{"If-Match": kept["ETag"]}),
        422,
        "password",
    )
    assert "saisissez de nouveau le mot de passe" in body["errors"]["password"][0]
    assert Mailbox.objects.get().imap_host == "127.0.0.1"
    # a poll changes the health, not the settings the ETag stands for
    Mailbox.objects.filter(pk=box["id"]).update(consecutive_failures=3, last_error="timeout")
    assert client.get(f"{API}/mailboxes/{box['id']}")["ETag"] == kept["ETag"]
    off = client.call("PATCH", f"/mailboxes/{box['id']}", {"is_active": False}, **{"If-Match": kept["ETag"]})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert AuditEvent.objects.filter(action="mailbox.deactivated").count() == 1
    responses.append(off)
    on = client.call("PATCH", f"/mailboxes/{box['id']}", {"is_active": True}, **{"If-Match": off["ETag"]})
    assert client.call("DELETE", f"/mailboxes/{box['id']}", **{"If-Match": on["ETag"]}).status_code == 204
    assert Mailbox.objects.get().is_active is False
    for response in responses:
        text = response.content.decode()
        assert "s3cret-imap-pw" not in text and stored.password_encrypted not in text
        assert '"password":' not in text and '"oauth_secret":' not in text


def test_bad_settings_are_refused_with_the_pages_messages(client_for, admin_user):
    client = client_for(admin_user)
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "address": "not-an-address"}), 422, "address")
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "password": ""}), 422, "password")
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "password_env": "HOME", "password": ""}), 422,
                   "password_env")  # fmt: skip
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "allowed_sender_domains": ["not a domain"]}), 422,
                   "allowed_sender_domains")  # fmt: skip
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "target_group": 999_999}), 422, "target_group")
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "has_password": True}), 422, "has_password")
    assert not Mailbox.objects.exists()
    assert client.call("POST", "/mailboxes", BOX).status_code == 201
    assert_problem(client.call("POST", "/mailboxes", {**BOX, "name": "Other"}), 422, "address")
    assert Mailbox.objects.count() == 1


def test_the_connection_test_says_what_happened(client_for, admin_user):
    client = client_for(admin_user)
    closed = Mailbox(name="Support", address="support@palier.test", imap_host="127.0.0.1", imap_port=free_port(),
                     imap_tls=False)  # fmt: skip
    closed.set_password("pw")
    closed.save()
    answer = client.call("POST", f"/mailboxes/{closed.pk}/test").json()
    assert answer["ok"] is False and "ConnectionRefusedError" in answer["message"]
    assert Mailbox.objects.get(pk=closed.pk).consecutive_failures == 0
    gate = Mailbox.objects.create(name="Gate", address="gate@palier.test")
    answer = client.call("POST", f"/mailboxes/{gate.pk}/test").json()
    assert answer["ok"] is False and "mailgate" in answer["message"]
    assert client.call("POST", "/mailboxes/999999/test").status_code == 404


def test_the_list_pages_in_few_queries(client_for, admin_user, django_assert_max_num_queries):
    Mailbox.objects.bulk_create(Mailbox(name=f"box {n:02}", address=f"box{n}@palier.test") for n in range(12))
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        page = client.get(f"{API}/mailboxes?limit=10").json()
    assert len(page["items"]) == 10 and page["items"][0]["name"] == "box 00" and page["next_cursor"]


@pytest.mark.django_db
def test_quarantine_and_retry(client_for, admin_user, settings, django_assert_max_num_queries):
    settings.PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR = 1
    box = Mailbox.objects.create(name="desk", address="desk@palier.test", create_unknown_senders=True)
    done = [services.receive_and_process(_message(f"u{n}@flood.test", n), mailbox=box) for n in range(3)]
    held = [m for m in done if m.state == InboundMessage.State.QUARANTINED]
    assert len(held) == 2
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        page = client.get(f"{API}/mail-quarantine?limit=1&mailbox={box.pk}").json()
    assert [m["id"] for m in page["items"]] == [held[-1].pk] and "Rate limit" in page["items"][0]["error"]
    assert "Hello" not in str(page)
    retried = client.call("POST", f"/mail-quarantine/{held[-1].pk}/retry")
    assert retried.status_code == 200, retried.content
    assert retried.json()["state"] == "processed" and retried.json()["ticket"]
    assert [m["id"] for m in client.get(f"{API}/mail-quarantine").json()["items"]] == [held[0].pk]
    assert client.call("POST", "/mail-quarantine/999999/retry").status_code == 404


def test_a_mailbox_created_by_api_signs_in_to_a_real_server(client_for, admin_user):
    from palier.mail.tests import dovecot

    with dovecot.start() as port:
        client = client_for(admin_user)
        body = {**BOX, "imap_port": port, "imap_tls": False, "imap_user": "desk", "password": dovecot.PASSWORD}
        made = client.call("POST", "/mailboxes", body)
        assert made.status_code == 201, made.content
        answer = client.call("POST", f"/mailboxes/{made.json()['id']}/test").json()
        assert answer["ok"] is True and "INBOX" in answer["message"]
        wrong = client.call(
            "PATCH", f"/mailboxes/{made.json()['id']}", {"password": "not-it"}, **{"If-Match": made["ETag"]}
        )
        assert wrong.status_code == 200 and dovecot.PASSWORD not in wrong.content.decode()
        answer = client.call("POST", f"/mailboxes/{made.json()['id']}/test").json()
        assert answer["ok"] is False and answer["message"]
