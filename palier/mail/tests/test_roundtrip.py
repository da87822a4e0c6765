"""The whole email conversation with real servers: a requester writes to the desk (Dovecot IMAP),
a ticket opens, the agent replies in the agent workspace, Palier sends it over SMTP (aiosmtpd)
with threading headers, the requester answers that mail quoting it, and the answer lands on the
same ticket as a public comment without the quoted text."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from imap_tools import MailBoxUnencrypted

from palier.mail import imap
from palier.mail.models import Mailbox
from palier.mail.tests import dovecot as dovecot_server
from palier.notifications import email
from palier.notifications.tests.smtp import Received, smtp_server, use_smtp
from palier.people.models import User
from palier.tickets import stream
from palier.tickets.models import Comment, Ticket

PASSWORD = dovecot_server.PASSWORD
DESK = "desk@palier.test"
VERIFIED = (
    "mx.palier.test; spf=pass smtp.mailfrom=acme.test; dkim=pass header.d=acme.test; dmarc=pass header.from=acme.test"
)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    with dovecot_server.start() as port:
        yield port


@pytest.fixture
def box(db: None, dovecot: int) -> Iterator[Mailbox]:
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login(dovecot_server.USER, PASSWORD) as client:
        client.delete(client.uids("ALL"))
    mailbox = Mailbox(
        name="desk", address=DESK, imap_host="127.0.0.1", imap_port=dovecot, imap_tls=False,
        imap_user=dovecot_server.USER, authserv_id="mx.palier.test", require_sender_authentication=True,
    )  # fmt: skip
    mailbox.set_password(PASSWORD)
    mailbox.save()
    yield mailbox


@pytest.fixture
def smtp(settings: Any) -> Iterator[Received]:
    with smtp_server() as server:
        use_smtp(settings, server.port)
        settings.LANGUAGE_CODE = "en"
        yield server


def _append(port: int, raw: bytes) -> None:
    with MailBoxUnencrypted("127.0.0.1", port=port).login(dovecot_server.USER, PASSWORD) as client:
        client.append(raw, "INBOX", flag_set=())


def _work() -> None:
    """What the worker does after commits: run the notification consumer, send the outbox (a pump
    "later" than the stream's gap horizon, as sequences leave gaps between tests on PostgreSQL)."""
    stream.pump("notifications")
    email.send_pending()


def _answer(received: EmailMessage, text: str) -> bytes:
    """The requester's mail client replying to ``received``, quoting it below a French header."""
    quoted = "\n".join(f"> {line}" for line in received.get_body(("plain",)).get_content().splitlines())  # type: ignore[union-attr]
    body = f"{text}\n\nLe sam. 28 nov. 2026 à 10:12, Palier <{DESK}> a écrit :\n{quoted}\n"
    answer = EmailMessage()
    answer["Authentication-Results"] = VERIFIED
    answer["From"] = "Alice Martin <alice@acme.test>"
    answer["To"] = DESK
    answer["Subject"] = f"RE: {received['Subject']}"
    answer["Date"] = format_datetime(timezone.now())
    answer["Message-ID"] = "<answer-1@acme.test>"
    answer["In-Reply-To"] = received["Message-ID"]
    answer["References"] = f"{received['References']} {received['Message-ID']}"
    answer.set_content(body)
    return answer.as_bytes()


def test_email_round_trip(
    box: Mailbox, dovecot: int, smtp: Received, requester: User, agent: User, client: Client
) -> None:
    first = (
        f"Authentication-Results: {VERIFIED}\r\n".encode()
        + b"From: Alice Martin <alice@acme.test>\r\nTo: desk@palier.test\r\nSubject: Imprimante en panne\r\n"
        b"Message-ID: <first-1@acme.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"L'imprimante du 2e affiche une erreur.\r\n"
    )
    _append(dovecot, first)
    assert imap.fetch_mailbox(box).fetched == 1
    ticket = Ticket.objects.get(requester=requester)
    _work()
    [ack] = smtp.messages()  # the acknowledgement (a verified sender), threaded under the requester's mail
    assert ack["In-Reply-To"] == "<first-1@acme.test>" and ack["Auto-Submitted"] == "auto-generated"

    client.force_login(agent)
    response = client.post(
        reverse("agent:ticket-reply", args=[ticket.pk]),
        {"visibility": "public", "body": "Avez-vous essayé de la redémarrer ?", "version": ticket.version},
    )
    assert response.status_code in (200, 302)
    _work()
    reply = smtp.messages()[1]
    assert smtp.envelopes[1][0] == ["alice@acme.test"]
    assert reply["Subject"].startswith(f"[{ticket.reference}] ")
    assert reply["From"] == DESK and reply["Reply-To"] == DESK
    assert reply["Message-ID"].endswith("@palier.test>") and reply["Message-ID"] != ack["Message-ID"]
    assert reply["In-Reply-To"] == ack["Message-ID"]  # the latest message of the thread
    assert reply["References"] == f"<first-1@acme.test> {ack['Message-ID']}"
    assert "Avez-vous essayé de la redémarrer ?" in reply.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    _append(dovecot, _answer(reply, "Oui, et elle est toujours en panne."))
    assert imap.fetch_mailbox(box).fetched == 1
    assert Ticket.objects.count() == 1  # the answer joined the ticket, no new one
    comment = Comment.objects.filter(ticket=ticket, author=requester).get()
    assert not comment.is_internal
    assert comment.body.strip() == "Oui, et elle est toujours en panne."  # quoted text stripped
