"""Test helpers for the worklist: a ticket in the triage group and the email a requester replies with."""

from __future__ import annotations

from palier.mail import services as mail_services
from palier.mail.models import InboundMessage
from palier.tickets.models import Ticket


def reply_by_email(ticket: Ticket, *, sender: str, body: str, message_id: str) -> InboundMessage:
    """The requester answering by email, through the real intake (threaded by the subject tag)."""
    raw = "\r\n".join(
        [
            f"From: {sender}",
            "To: desk@palier.test",
            f"Subject: Re: [{ticket.reference}] {ticket.subject}",
            f"Message-ID: <{message_id}>",
            "Content-Type: text/plain; charset=utf-8",
            "",
            body,
        ]
    ).encode("utf-8")
    return mail_services.receive_and_process(raw, mailbox=None)
