"""Replies by email to a ticket merged into another land in the ticket it was merged into."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from palier.mail import services
from palier.mail.models import InboundMessage
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
Build = Callable[..., bytes]


def test_a_reply_to_the_merged_tickets_thread_lands_in_the_survivor(
    requester: User, requester_b: User, agent: User, email_bytes: Build
) -> None:
    keep = make_ticket(requester, subject="VPN down")
    dup = services.receive_and_process(
        email_bytes(sender="Bob Durand <bob@acme.test>", subject="VPN broken", message_id="b1@acme.test")
    ).ticket
    assert dup is not None
    services.record_outgoing("<ack-b1@palier.test>", dup)
    ticket_services.merge_tickets(keep, merged=[dup.pk], by=agent)

    by_thread = services.receive_and_process(
        email_bytes(
            sender="Bob Durand <bob@acme.test>",
            subject="Re: VPN broken",
            message_id="b2@acme.test",
            headers="In-Reply-To: <ack-b1@palier.test>",
            body="Still broken here.",
        )
    )
    assert by_thread.state == InboundMessage.State.PROCESSED
    assert by_thread.ticket == keep and not by_thread.opened_ticket
    by_tag = services.receive_and_process(
        email_bytes(
            sender="Bob Durand <bob@acme.test>",
            subject=f"Re: [{dup.reference}] VPN broken",
            message_id="b3@acme.test",
            body="And now?",
        )
    )
    assert by_tag.ticket == keep
    bodies = list(Comment.objects.filter(ticket=keep).values_list("body", flat=True))
    assert bodies == ["Still broken here.", "And now?"]
    assert Ticket.objects.count() == 2  # no new ticket was opened
    # the survivor's requester did not write these: Bob, now a watcher, did
    assert set(Comment.objects.filter(ticket=keep).values_list("author__email", flat=True)) == {"bob@acme.test"}
