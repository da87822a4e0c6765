"""The outbox: queueing, headers, threading, retries with backoff, and who never gets mail."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from palier.mail.models import InboundMessage, Mailbox, MessageRecord
from palier.notifications import email
from palier.notifications.models import OutgoingEmail
from palier.notifications.tests.smtp import smtp_server, use_smtp
from palier.people.models import User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def _queue(ticket: Ticket | None, to: list[User | str], key: str = "k1", **kwargs: object) -> int:
    return email.queue_email(to=to, subject="Hello", text="Body", html="<p>Body</p>", ticket=ticket, key=key, **kwargs)  # type: ignore[arg-type]


def test_queue_sends_after_commit_with_tag_and_auto_headers(
    requester: User, django_capture_on_commit_callbacks: object
) -> None:
    ticket = make_ticket(requester)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert _queue(ticket, [requester]) == 1
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == f"[{ticket.reference}] Hello"
    assert sent.to == ["alice@acme.test"]
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    assert sent.extra_headers["X-Auto-Response-Suppress"] == "All"
    assert sent.alternatives[0][1] == "text/html"
    row = OutgoingEmail.objects.get()
    assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    assert sent.extra_headers["Message-ID"] == f"<{row.message_id}>"
    # the reply to this mail threads back to the ticket
    assert MessageRecord.objects.get(message_id=row.message_id).ticket == ticket


def test_same_key_sends_once(requester: User, django_capture_on_commit_callbacks: object) -> None:
    ticket = make_ticket(requester)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert _queue(ticket, [requester, "ALICE@acme.test"]) == 1
        assert _queue(ticket, [requester]) == 0
        assert _queue(ticket, ["Alice@ACME.test"]) == 0  # the same address spelled otherwise
    email.send_pending()
    assert len(mail.outbox) == 1


def test_manual_mail_has_no_auto_headers(requester: User, django_capture_on_commit_callbacks: object) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        _queue(None, ["someone@example.com"], automatic=False)
    assert "Auto-Submitted" not in mail.outbox[0].extra_headers
    assert mail.outbox[0].subject == "Hello"


def test_never_sent_to_invalid_desk_or_inactive(requester: User, requester_b: User) -> None:
    Mailbox.objects.create(name="Support", address="support@desk.test")
    requester_b.is_active = False
    requester_b.save(update_fields=["is_active"])
    added = _queue(None, ["robot@palier.invalid", "Support@desk.test", requester_b, "not-an-address"])
    assert added == 0
    assert not OutgoingEmail.objects.exists()


def test_from_is_the_mailbox_the_ticket_came_through_and_threads(requester: User) -> None:
    Mailbox.objects.create(name="First", address="first@desk.test")
    came_in = Mailbox.objects.create(name="Help", address="help@desk.test")
    ticket = make_ticket(requester)
    InboundMessage.objects.create(mailbox=came_in, raw=b"x", sha256="0", dedupe_key="a@x", ticket=ticket)
    MessageRecord.objects.create(message_id="first@mua.test", ticket=ticket, created_at=timezone.now())
    MessageRecord.objects.create(
        message_id="latest@mua.test", ticket=ticket, created_at=timezone.now() + timedelta(seconds=1)
    )
    _queue(ticket, [requester])
    row = OutgoingEmail.objects.get()
    message = email.build_message(row).message()
    assert message["From"] == "help@desk.test" and message["Reply-To"] == "help@desk.test"
    assert message["In-Reply-To"] == "<latest@mua.test>"
    assert message["References"] == "<first@mua.test> <latest@mua.test>"
    assert row.message_id.endswith("@desk.test")


def test_from_falls_back_to_first_active_mailbox_then_default(requester: User, settings: object) -> None:
    settings.DEFAULT_FROM_EMAIL = "Palier <palier@default.test>"  # type: ignore[attr-defined]
    assert email.sender_address(None) == "Palier <palier@default.test>"
    Mailbox.objects.create(name="Off", address="off@desk.test", is_active=False)
    Mailbox.objects.create(name="On", address="on@desk.test")
    assert email.sender_address(make_ticket(requester)) == "on@desk.test"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_failure_is_retried_later_then_sent_by_a_real_server(requester: User, settings: object) -> None:
    use_smtp(settings, _closed_port())
    _queue(None, [requester])
    row = OutgoingEmail.objects.get()
    before = timezone.now()
    assert email.send_pending() == 0
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("queued", 1) and row.next_attempt_at >= before + timedelta(minutes=1)
    with smtp_server() as server:
        use_smtp(settings, server.port)
        assert email.send_pending() == 0  # not due yet
        OutgoingEmail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # a minute later
        assert email.send_pending() == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, "")
    [received] = server.messages()
    assert received["Message-ID"] == f"<{row.message_id}>" and received["Subject"] == "Hello"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received.get_body(("plain",)).get_content().strip() == "Body"  # type: ignore[union-attr]
    assert received.get_body(("html",)).get_content().strip() == "<p>Body</p>"  # type: ignore[union-attr]


def test_failure_is_retried_with_backoff_then_marked_failed(requester: User, settings: object) -> None:
    use_smtp(settings, _closed_port())
    _queue(None, [requester])
    row = OutgoingEmail.objects.get()
    before = timezone.now()
    assert email.send_one(row.pk) == "queued"
    row.refresh_from_db()
    assert row.attempts == 1 and row.state == "queued" and "ConnectionRefused" in row.last_error
    assert row.next_attempt_at >= before + timedelta(minutes=1)
    assert email.send_pending() == 0  # not due yet: nothing attempted
    row.refresh_from_db()
    assert row.attempts == 1
    for attempt in range(2, email.MAX_ATTEMPTS + 1):
        OutgoingEmail.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        email.send_one(row.pk)
        row.refresh_from_db()
        assert row.attempts == attempt
    assert row.state == "failed"
    assert email.send_one(row.pk) == "failed"  # never tried again


def test_claim_stops_a_second_sender(requester: User) -> None:
    _queue(None, [requester])
    row = OutgoingEmail.objects.get()
    OutgoingEmail.objects.filter(pk=row.pk).update(state="sending", claimed_at=timezone.now())
    assert email.send_one(row.pk) == "sending"
    assert mail.outbox == []
    # a worker that died long ago: the row is taken over
    OutgoingEmail.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - timedelta(hours=1))
    assert email.send_pending() == 1
    assert len(mail.outbox) == 1
