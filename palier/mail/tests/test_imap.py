"""IMAP polling against a real Dovecot (Debian's dovecot-imapd) started on 127.0.0.1 for the test."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from imap_tools import AND, MailBoxUnencrypted

from palier.mail import imap
from palier.mail.models import InboundMessage, Mailbox
from palier.people.models import User
from palier.tickets.models import Comment, Ticket

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-pw-123"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    if not os.path.exists(DOVECOT) or os.geteuid() != 0:
        reason = "Dovecot is not installed (apt-get install dovecot-imapd) or not running as root"
        if os.environ.get("PALIER_REQUIRE_DOVECOT") == "1":
            pytest.fail(reason)  # CI installs it: a skip there would hide the IMAP tests
        pytest.skip(reason)
    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="palier-dovecot-"))
    root.chmod(0o755)
    home = root / "home"
    home.mkdir()
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    port = _free_port()
    (root / "passwd").write_text(f"desk:{{PLAIN}}{PASSWORD}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = {nobody.pw_uid}
last_valid_uid = {nobody.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={home}/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if process.poll() is not None:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    out = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"dovecot did not start: {out} {log}")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _deliver(port: int, *messages: bytes) -> None:
    with MailBoxUnencrypted("127.0.0.1", port=port).login("desk", PASSWORD) as client:
        for raw in messages:
            client.append(raw, "INBOX", flag_set=())


def _clear(port: int) -> None:
    with MailBoxUnencrypted("127.0.0.1", port=port).login("desk", PASSWORD) as client:
        client.delete(client.uids("ALL"))


def _mail(n: int, subject: str = "Printer", extra: str = "") -> bytes:
    return (
        f"From: Alice <alice@acme.test>\r\nTo: desk@palier.test\r\nSubject: {subject} {n}\r\n"
        f"Message-ID: <imap-{n}@acme.test>\r\n{extra}\r\nBody {n}\r\n"
    ).encode()


@pytest.fixture
def box(db: None, dovecot: int) -> Iterator[Mailbox]:
    _clear(dovecot)
    mailbox = Mailbox(
        name="desk", address="desk@palier.test", imap_host="127.0.0.1", imap_port=dovecot, imap_tls=False,
        imap_user="desk",
    )  # fmt: skip
    mailbox.set_password(PASSWORD)
    mailbox.save()
    yield mailbox
    _clear(dovecot)


def test_polling_fetches_unseen_mail_once(requester: User, box: Mailbox, dovecot: int) -> None:
    _deliver(dovecot, _mail(1), _mail(2), _mail(3, "Re:", "In-Reply-To: <imap-1@acme.test>\r\n"))
    result = imap.fetch_mailbox(box)
    assert (result.fetched, result.error) == (3, "")
    assert Ticket.objects.filter(channel="email").count() == 2
    assert Comment.objects.filter(ticket__subject="Printer 1").count() == 1
    assert imap.fetch_mailbox(box).fetched == 0  # marked seen
    box.refresh_from_db()
    assert box.last_success_at is not None and box.consecutive_failures == 0
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login("desk", PASSWORD) as client:
        assert list(client.uids(AND(seen=False))) == []


def test_crash_before_marking_seen_gives_no_duplicate(
    requester: User, box: Mailbox, dovecot: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _deliver(dovecot, *[_mail(n) for n in range(10, 15)])
    calls = {"n": 0}
    original = imap.services.receive

    def crash_after_two(raw: bytes, **kwargs: object) -> InboundMessage:
        calls["n"] += 1
        stored = original(raw, **kwargs)  # type: ignore[arg-type]
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the worker dies after storing, before flagging
        return stored

    monkeypatch.setattr(imap.services, "receive", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        imap.fetch_mailbox(box)
    monkeypatch.undo()
    imap.process_pending(older_than_seconds=0)
    assert imap.fetch_mailbox(box).fetched == 3  # the third one again, then the last two
    assert InboundMessage.objects.count() == 5
    assert Ticket.objects.count() == 5


def test_failures_are_counted_and_shown(admin_user: User, box: Mailbox, client: Client) -> None:
    box.set_password("wrong")
    box.save()
    for expected in (1, 2, 3):
        result = imap.fetch_mailbox(box)
        box.refresh_from_db()
        assert result.error and box.consecutive_failures == expected
    assert "LOGIN" in box.last_error.upper() or "AUTH" in box.last_error.upper()
    client.force_login(admin_user)
    page = client.get(reverse("mail:quarantine")).content.decode()
    assert "desk@palier.test" in page and box.last_error[:20] in page
