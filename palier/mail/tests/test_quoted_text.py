""" "Show quoted text": a message that came by email shows its reply, and a toggle reveals the
full text with the quoted conversation (escaped), for agents and for the requester's own messages."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from palier.mail import services
from palier.mail.models import Mailbox
from palier.people.models import User
from palier.tickets.models import Ticket

QUOTE = "Le lun. 3 mars 2025 à 10:00, Support <desk@palier.test> a écrit :\n> Avez-vous redémarré <script>alert(1)</script> ?"


def _thread(email_bytes: Callable[..., bytes], agent: User) -> Ticket:
    first = email_bytes(body=f"The printer is jammed.\n\n{QUOTE}", message_id="q1@acme.test")
    ticket = services.receive_and_process(first).ticket
    assert ticket is not None
    reply = email_bytes(
        subject="Re: Printer jammed", body=f"Yes, twice.\n\n{QUOTE}", message_id="q2@acme.test",
        headers="In-Reply-To: <q1@acme.test>",
    )  # fmt: skip
    services.receive_and_process(reply)
    agent_reply = email_bytes(
        sender=f"Agent <{agent.email}>", subject="Re: Printer jammed", body=f"Try the other tray.\n\n{QUOTE}",
        message_id="q3@acme.test",
        headers="In-Reply-To: <q2@acme.test>\nAuthentication-Results: mx.palier.test; dmarc=pass header.from=desk.test",
    )  # fmt: skip
    box = Mailbox.objects.create(name="desk", address="desk@palier.test", authserv_id="mx.palier.test")
    assert services.receive_and_process(agent_reply, mailbox=box).comment is not None  # agents need a pass
    return ticket


def test_agent_sees_reply_with_a_toggle_for_the_quoted_text(
    email_bytes: Callable[..., bytes], agent: User, client: Client
) -> None:
    ticket = _thread(email_bytes, agent)
    client.force_login(agent)
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<p class="entry-body">Yes, twice.</p>' in page
    assert page.count("Show quoted text") == 3  # the description and both emailed replies
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page


def test_requester_sees_the_toggle_on_their_own_messages_only(
    email_bytes: Callable[..., bytes], agent: User, client: Client
) -> None:
    ticket = _thread(email_bytes, agent)
    client.force_login(ticket.requester)
    page = client.get(reverse("portal:ticket-detail", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Try the other tray." in page
    assert page.count("Show quoted text") == 2  # their description and their reply, not the agent's mail


def test_no_toggle_when_nothing_was_quoted(email_bytes: Callable[..., bytes], agent: User, client: Client) -> None:
    ticket = services.receive_and_process(email_bytes(body="Just this.")).ticket
    assert ticket is not None
    client.force_login(agent)
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Just this." in page and "Show quoted text" not in page
