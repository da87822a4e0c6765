"""Issue 14, hole 4: an administrator cannot make Palier send a server secret to a host they choose.

The attack: name ``DATABASE_URL`` (or any variable) as a mailbox's password variable, point the
mailbox at your own IMAP server, press "Test connection", read the password it sends. Or keep a
colleague's saved mailbox password and only change the host. A capturing IMAP server records
every byte it receives.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from palier.mail import mailboxes, secrets
from palier.mail.models import Mailbox
from palier.people.models import User

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
SERVER_SECRET = "postgres://palier:db-secret-4711@db/palier"


class CapturingImap:
    """An IMAP server that answers every command with NO and keeps what it was sent."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = int(self.sock.getsockname()[1])
        self.received = b""
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.sendall(b"* OK IMAP4rev1 ready\r\n")
                buffer = b""
                while chunk := conn.recv(4096):
                    self.received += chunk
                    buffer += chunk
                    while b"\r\n" in buffer:
                        line, buffer = buffer.split(b"\r\n", 1)
                        tag = line.split(b" ", 1)[0]
                        if b"CAPABILITY" in line.upper():
                            conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                        else:
                            conn.sendall(tag + b" NO refused\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def capture() -> Iterator[CapturingImap]:
    server = CapturingImap()
    yield server
    server.close()


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    client.force_login(admin_user)
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Support", "address": "support@palier.test", "is_active": "on", "imap_host": "imap.palier.test",
        "imap_port": "993", "imap_tls": "on", "imap_user": "", "password": "", "password_env": "",
        "folder": "INBOX", "poll_interval_seconds": "60", "oauth_provider": "", "oauth_tenant": "",
        "oauth_client_id": "", "oauth_secret_env": "", "oauth_secret": "", "target_kind": "incident",
        "unverified_reply": "new_ticket",
    }  # fmt: skip
    data.update(overrides)
    return data


@pytest.mark.parametrize("field", ["password_env", "oauth_secret_env"])
@pytest.mark.parametrize("name", ["DATABASE_URL", "SECRET_KEY", "PALIER_SECRET_"])
def test_only_palier_secret_variables_are_accepted(admin_client: Client, field: str, name: str) -> None:
    data = _form(**{field: name, "oauth_provider": "microsoft" if field == "oauth_secret_env" else ""})
    data.update(oauth_tenant="contoso", oauth_client_id="abc")
    response = admin_client.post(reverse("mail:mailboxes"), data, **EN)
    assert response.status_code == 400
    assert "starts with PALIER_SECRET_" in " ".join(response.context["form"].errors[field])
    assert not Mailbox.objects.exists()


def test_test_connection_never_sends_another_variable(
    db: None, admin_client: Client, capture: CapturingImap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL_COPY", SERVER_SECRET)
    # a row saved before names were restricted (or written around the admin page)
    mailbox = Mailbox.objects.create(
        name="x", address="x@palier.test", imap_host="127.0.0.1", imap_port=capture.port, imap_tls=False,
        imap_user="attacker", password_env="DATABASE_URL_COPY",
    )  # fmt: skip
    response = admin_client.post(reverse("mail:mailbox-test", args=[mailbox.pk]), follow=True, **EN)
    page = response.content.decode()
    assert "Connection failed" in page and "PALIER_SECRET_" in page
    assert b"db-secret" not in capture.received and SERVER_SECRET not in page
    assert capture.connections == 0


def test_a_saved_password_is_not_sent_to_a_new_host(
    db: None, admin_client: Client, admin_user: User, capture: CapturingImap
) -> None:
    mailbox = mailboxes.create_mailbox(
        by=admin_user, name="Support", address="support@palier.test", imap_host="imap.palier.test",
        imap_user="desk", password="colleague-pw-1",
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        mailboxes.update_mailbox(
            mailbox=mailbox, by=admin_user, imap_host="127.0.0.1", imap_port=capture.port, imap_tls=False
        )
    assert "enter the password again" in str(refused.value)
    url = reverse("mail:mailbox-edit", args=[mailbox.pk])
    data = _form(imap_host="127.0.0.1", imap_port=str(capture.port), imap_tls="", imap_user="desk")
    del data["imap_tls"]
    response = admin_client.post(url, data, **EN)
    assert response.status_code == 400 and "enter the password again" in " ".join(
        response.context["form"].errors["password"]
    )
    admin_client.post(reverse("mail:mailbox-test", args=[mailbox.pk]), **EN)
    assert b"colleague-pw-1" not in capture.received
    mailbox.refresh_from_db()
    assert mailbox.imap_host == "imap.palier.test"
    # other settings change without the password
    assert admin_client.post(url, _form(imap_user="desk", folder="Support")).status_code == 302


def test_oauth_secret_is_stored_encrypted_and_shown_masked(admin_client: Client) -> None:
    data = _form(oauth_provider="microsoft", oauth_tenant="contoso", oauth_client_id="abc", oauth_secret="m365-s3cret")
    response = admin_client.post(reverse("mail:mailboxes"), data, **EN)
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert "m365-s3cret" not in mailbox.oauth_secret_encrypted and mailbox.get_oauth_secret() == "m365-s3cret"
    page = admin_client.get(response["Location"], **EN).content.decode()
    assert "m365-s3cret" not in page and mailbox.oauth_secret_encrypted not in page and "(stored)" in page


def test_secrets_use_hkdf_and_rotate_with_the_secret_key(db: None, settings: Any) -> None:
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "old-key-" + "x" * 40, []
    mailbox = Mailbox(name="m", address="m@palier.test")
    mailbox.set_password("imap-pw")
    legacy = Fernet(
        base64.urlsafe_b64encode(hashlib.sha256(b"palier.mail.password:" + settings.SECRET_KEY.encode()).digest())
    )
    mailbox.oauth_secret_encrypted = legacy.encrypt(b"before-hkdf").decode()  # stored by an earlier version
    mailbox.save()
    with pytest.raises(Exception):  # noqa: B017 (the HKDF key is not the old SHA-256 one)
        legacy.decrypt(mailbox.password_encrypted.encode())

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-key-" + "y" * 40, ["old-key-" + "x" * 40]
    assert mailbox.get_password() == "imap-pw" and mailbox.get_oauth_secret() == "before-hkdf"
    call_command("rotate-secrets")
    settings.SECRET_KEY_FALLBACKS = []
    mailbox.refresh_from_db()
    assert mailbox.get_password() == "imap-pw" and mailbox.get_oauth_secret() == "before-hkdf"
    settings.SECRET_KEY = "another-" + "z" * 40
    with pytest.raises(secrets.SecretError):
        mailbox.get_password()


def test_mailbox_changes_leave_a_trace_without_their_secrets(db: None, admin_user: User) -> None:
    from palier.audit.models import AuditEvent

    mailbox = mailboxes.create_mailbox(
        by=admin_user, name="Support", address="support@palier.test", imap_host="imap.palier.test",
        imap_user="desk", password="colleague-pw-1",
    )  # fmt: skip
    mailboxes.update_mailbox(mailbox=mailbox, by=admin_user, folder="Helpdesk", password="colleague-pw-2")
    mailboxes.set_active(mailbox=mailbox, active=False, by=admin_user)
    events = list(AuditEvent.objects.filter(target_type="mail.mailbox").order_by("id"))
    assert [e.action for e in events] == ["mailbox.created", "mailbox.changed", "mailbox.deactivated"]
    assert all(e.actor_id == admin_user.pk and e.target_id == str(mailbox.pk) for e in events)
    assert events[0].changes["imap_host"] == [None, "imap.palier.test"]
    assert events[1].changes["folder"] == ["INBOX", "Helpdesk"]
    assert events[1].changes["password"] == [None, "••••••"]  # changed, never shown
    assert "colleague-pw" not in str([e.changes for e in events])
