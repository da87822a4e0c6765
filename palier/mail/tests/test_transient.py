"""What a fault while processing a mail does: a passing database error (lock timeout, connection
reset, "database is locked") is retried later on its own; only a message that cannot be processed
goes to the quarantine; a refused attachment is dropped with a note, the mail kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from palier.mail import imap, services
from palier.mail.models import InboundMessage
from palier.people.models import User
from palier.tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db
S = InboundMessage.State


def _failing_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The intake's threading step raises ``error`` the first time it runs (a real error class of
    the database layer, as a lock timeout or a dropped connection raises it)."""
    real = services._thread
    calls: list[int] = []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_thread", flaky)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database is locked"),
        OperationalError("canceling statement due to lock timeout"),
        InterfaceError("connection already closed"),
    ],
    ids=["sqlite-locked", "lock-timeout", "connection-reset"],
)
def test_a_passing_database_error_is_retried_not_quarantined(
    requester: User, email_bytes: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    _failing_once(monkeypatch, error)
    inbound = services.receive_and_process(email_bytes())
    assert inbound.state == S.RECEIVED  # waiting for its retry, not in the quarantine
    assert inbound.attempts == 1 and str(error) in inbound.error
    assert inbound.next_attempt_at is not None and inbound.next_attempt_at > timezone.now()
    assert imap.process_pending() == 0  # not before its time
    assert imap.process_pending(now=inbound.next_attempt_at + timedelta(seconds=1)) == 1
    inbound.refresh_from_db()
    assert (inbound.state, inbound.error, inbound.next_attempt_at) == (S.PROCESSED, "", None)
    assert Ticket.objects.count() == 1


def test_retries_back_off(requester: User, email_bytes: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(*args: object, **kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_thread", locked)
    inbound = services.receive_and_process(email_bytes())
    delays = []
    for _ in range(4):
        assert inbound.state == S.RECEIVED and inbound.next_attempt_at is not None
        delays.append((inbound.next_attempt_at - inbound.processed_at).total_seconds())  # type: ignore[operator]
        inbound = services.process(inbound.pk)
    assert delays == sorted(delays) and delays[-1] > delays[0]
    assert not Ticket.objects.exists()


def _with_attachments(*parts: tuple[str, bytes], message_id: str = "att@x", headers: str = "") -> bytes:
    raw = (
        f"From: alice@acme.test\r\nSubject: Logs\r\nMessage-ID: <{message_id}>\r\n{headers}"
        'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nSee files\r\n'
    ).encode()
    for name, content in parts:
        raw += (
            b"--m\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            + f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'.encode()
            + __import__("base64").encodebytes(content)
            + b"\r\n"
        )
    return raw + b"--m--\r\n"


def test_a_refused_attachment_is_dropped_with_a_note_and_the_mail_kept(requester: User, settings: object) -> None:
    settings.PALIER_MAX_ATTACHMENT_BYTES = 1000  # type: ignore[attr-defined]
    inbound = services.receive_and_process(
        _with_attachments(("log.txt", b"error 42\n"), ("tool.exe", b"MZ\x90\x00binary"), ("dump.txt", b"x" * 2000))
    )
    assert inbound.state == S.PROCESSED
    ticket = inbound.ticket
    assert ticket is not None
    assert [a.filename for a in ticket.attachments.all()] == ["log.txt"]
    note = Comment.objects.get(ticket=ticket, is_internal=True)
    assert "tool.exe" in note.body and "dump.txt" in note.body and "log.txt" not in note.body

    reply = services.receive_and_process(
        _with_attachments(
            ("more.exe", b"MZ\x90\x00"),
            ("empty.txt", b""),
            message_id="att2@x",
            headers=f"Subject: Re: [{ticket.reference}] Logs\r\nIn-Reply-To: <att@x>\r\n",
        )
    )
    assert reply.state == S.PROCESSED and reply.ticket == ticket and reply.comment is not None
    notes = Comment.objects.filter(ticket=ticket, is_internal=True).order_by("pk")
    assert notes.count() == 2 and "more.exe" in notes.last().body and "empty.txt" in notes.last().body  # type: ignore[union-attr]
    assert ticket.attachments.count() == 1
