"""IMAP polling against a real Dovecot (Debian's dovecot-imapd) started on 127.0.0.1 for the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from imap_tools import AND, MailBoxUnencrypted

from palier.mail import imap, services
from palier.mail.models import InboundMessage, Mailbox
from palier.mail.tests import dovecot as dovecot_server
from palier.people.models import User
from palier.tickets.models import Comment, Ticket

PASSWORD = dovecot_server.PASSWORD


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    with dovecot_server.start() as port:
        yield port


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
    assert imap.check_connection(box) == ""
    result = imap.fetch_mailbox(box)
    assert (result.fetched, result.error) == (3, "")
    assert Ticket.objects.filter(channel="email").count() == 2
    assert Comment.objects.filter(ticket__subject="Printer 1").count() == 1
    assert imap.fetch_mailbox(box).fetched == 0  # marked seen
    box.refresh_from_db()
    assert box.last_success_at is not None and box.consecutive_failures == 0
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login("desk", PASSWORD) as client:
        assert list(client.uids(AND(seen=False))) == []


def test_the_periodic_poll_queues_processing_for_the_worker_pool(
    requester: User, box: Mailbox, dovecot: int, settings: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    from testsupport.processes import DATABASE_TASKS

    settings.TASKS = DATABASE_TASKS
    _deliver(dovecot, _mail(1), _mail(2), _mail(3, "Re:", "In-Reply-To: <imap-1@acme.test>\r\n"))
    assert imap.poll_due_mailboxes() == 3
    stored = list(InboundMessage.objects.order_by("pk"))
    assert {m.state for m in stored} == {"received"}  # stored and flagged seen, not processed here
    queued = DBTaskResult.objects.filter(task_path="palier.mail.tasks.process_messages_task")
    assert [r.args_kwargs["args"][0] for r in queued] == [[m.pk for m in stored]]  # one batch
    for message in reversed(stored):  # two workers: the reply may well come first
        services.process(message.pk)
    assert Ticket.objects.filter(channel="email").count() == 2
    assert Comment.objects.filter(ticket__subject="Printer 1").count() == 1


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
    assert imap.fetch_mailbox(box).fetched == 5  # the batch was not flagged: fetched again, stored once
    assert InboundMessage.objects.count() == 5
    assert Ticket.objects.count() == 5


def test_wrong_password_is_a_failure_shown_to_admins(db: None, admin_user: User, client: Client) -> None:
    # its own server: Dovecot slows every login from an address after a failed one
    with dovecot_server.start() as port:
        box = Mailbox(
            name="desk", address="desk@palier.test", imap_host="127.0.0.1", imap_port=port, imap_tls=False,
            imap_user="desk",
        )  # fmt: skip
        box.set_password("wrong")
        box.save()
        result = imap.fetch_mailbox(box)

    box.refresh_from_db()
    assert result.error and box.consecutive_failures == 1
    assert "AUTHENTICATIONFAILED" in box.last_error
    client.force_login(admin_user)
    page = client.get(reverse("mail:quarantine")).content.decode()
    assert "desk@palier.test" in page and box.last_error[:20] in page


def test_a_message_someone_opened_first_is_still_fetched(requester: User, box: Mailbox, dovecot: int) -> None:
    """The desk reads by UID, not by the read flag: a colleague opening the shared mailbox in their
    mail client before the next poll takes nothing away from the desk."""
    from imap_tools import MailMessageFlags

    _deliver(dovecot, _mail(20))
    assert imap.fetch_mailbox(box).fetched == 1
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login("desk", PASSWORD) as client:
        client.append(_mail(21), "INBOX", flag_set=[MailMessageFlags.SEEN])  # opened by a person
        client.append(_mail(22), "INBOX", flag_set=())
    assert imap.fetch_mailbox(box).fetched == 2
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Printer 20", "Printer 21", "Printer 22"]
    assert imap.fetch_mailbox(box).fetched == 0  # each UID once
    box.refresh_from_db()
    assert box.imap_last_uid > 0 and box.imap_uidvalidity


def test_a_recreated_folder_new_uidvalidity_is_read_again(requester: User, box: Mailbox, dovecot: int) -> None:
    """A folder deleted and created again (new UIDVALIDITY) numbers its messages from 1 again: the
    desk notices, and fetches what arrived since its last poll (stored messages are not doubled)."""
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login("desk", PASSWORD) as client:
        if client.folder.exists("Support"):
            client.folder.delete("Support")
        client.folder.create("Support")
        for n in (30, 31, 32):
            client.append(_mail(n), "Support", flag_set=())
    box.folder = "Support"
    box.save()
    assert imap.fetch_mailbox(box).fetched == 3
    box.refresh_from_db()
    before = (box.imap_uidvalidity, box.imap_last_uid)
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login("desk", PASSWORD) as client:
        client.folder.delete("Support")
        client.folder.create("Support")
        client.append(_mail(31), "Support", flag_set=())  # moved back by someone: stored already
        client.append(_mail(33), "Support", flag_set=())  # new, with UID 2, below the last UID seen
    assert imap.fetch_mailbox(box).error == ""
    box.refresh_from_db()
    assert box.imap_uidvalidity != before[0] and box.imap_last_uid < before[1]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == [f"Printer {n}" for n in (30, 31, 32, 33)]
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login("desk", PASSWORD) as client:
        client.folder.delete("Support")
