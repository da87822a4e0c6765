"""Test helpers for surveys: resolve a ticket and deliver the survey email."""

from __future__ import annotations

import re

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from palier.notifications import email
from palier.people.models import User
from palier.tickets import services as tickets
from palier.tickets import stream
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

LINK = re.compile(r"https?://\S+/surveys/answer/[^/\s]+/\?score=(\d)")


def resolved_ticket(requester: User, agent: User, **fields: object) -> Ticket:
    ticket = make_ticket(requester, **fields)
    return tickets.transition_ticket(ticket, to="resolved", by=agent)


def survey_mails() -> list[EmailMultiAlternatives]:
    """Run the surveys' consumer over new events, send the outbox; the survey mails sent so far."""
    # event ids do not restart with each test (PostgreSQL sequences, SQLite after a flush) while
    # the cursor does: pump as if the stream's gap wait had passed
    stream.pump("surveys")
    email.send_pending()
    return [m for m in mail.outbox if "/surveys/answer/" in str(m.body)]  # type: ignore[misc]


def score_links(message: EmailMultiAlternatives) -> dict[int, str]:
    return {int(m.group(1)): m.group(0) for m in LINK.finditer(str(message.body))}
