"""Issue 14, hole 1: nobody speaks as someone else by email.

The attacker writes a message with a forged From: Palier's automation account, an agent, or the
requester. The trusted mail server (authserv-id ``mx.palier.test``) stamps what it verified in an
``Authentication-Results`` header above whatever the attacker wrote. Messages are built with
``email.message`` as a mail client would.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from palier.automation.services.rules import ROBOT_EMAIL as AUTOMATION_EMAIL
from palier.mail import imap, services
from palier.mail.models import InboundMessage, Mailbox
from palier.mail.tests import dovecot as dovecot_server
from palier.people import services as people_services
from palier.people.models import User
from palier.tickets.models import Comment, Ticket, TicketLink

pytestmark = pytest.mark.django_db
S = InboundMessage.State
MX = "mx.palier.test"
_counter = iter(range(1, 10_000))


def message(
    sender: str,
    *,
    subject: str = "Printer jammed",
    body: str = "The printer is jammed.",
    auth: list[str] = (),  # type: ignore[assignment]
    cc: str = "",
    to: str = "desk@palier.test",
) -> bytes:
    msg = EmailMessage()
    for value in auth:  # the trusted server's header comes first (it is added last, on top)
        msg["Authentication-Results"] = value
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Message-ID"] = f"<spoof-{next(_counter)}@mail.test>"
    msg.set_content(body)
    return msg.as_bytes()


def passed(domain: str) -> str:
    return f"{MX}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"


def failed(domain: str) -> str:
    return f"{MX}; spf=fail smtp.mailfrom={domain}; dkim=none; dmarc=fail (p=none) header.from={domain}"


@pytest.fixture
def box(triage: object) -> Mailbox:
    return Mailbox.objects.create(name="desk", address="desk@palier.test", target_group=triage, authserv_id=MX)


@pytest.fixture
def ticket(requester: User, box: Mailbox) -> Ticket:
    opened = services.receive_and_process(message("Alice <alice@acme.test>", auth=[passed("acme.test")]), mailbox=box)
    assert opened.ticket is not None
    return opened.ticket


# --- reserved addresses --------------------------------------------------------------------------


def test_mail_from_the_automation_account_never_replies_on_a_ticket(ticket: Ticket, box: Mailbox) -> None:
    from palier.automation.services.rules import robot

    robot()  # the automation account exists: an administrator
    forged = services.receive_and_process(
        message(f"Palier <{AUTOMATION_EMAIL}>", subject=f"Re: [{ticket.reference}]", body="Click here"), mailbox=box
    )
    assert forged.state == S.QUARANTINED and AUTOMATION_EMAIL in forged.error
    assert bytes(forged.raw).startswith(b"From:") or b"From:" in bytes(forged.raw)  # stored first
    assert not Comment.objects.filter(ticket=ticket, body__contains="Click").exists()
    assert Ticket.objects.count() == 1


def test_mail_from_a_reserved_address_creates_no_account(box: Mailbox) -> None:
    for address in (AUTOMATION_EMAIL, "mail-robot@palier.invalid", "anything@else.invalid"):
        forged = services.receive_and_process(message(address), mailbox=box)
        assert forged.state == S.QUARANTINED
        assert not User.objects.filter(email=address).exists()
    assert not Ticket.objects.exists()


def test_reserved_addresses_are_never_created_as_people(admin_user: User) -> None:
    with pytest.raises(ValidationError) as refused:
        people_services.create_user(email="Automation@Palier.invalid", by=admin_user)
    assert "reserved" in str(refused.value)
    with pytest.raises(ValidationError):
        people_services.create_user(email="robot@palier.invalid", by=None)


def test_the_api_refuses_reserved_addresses(admin_user: User, client: Client) -> None:
    client.force_login(admin_user)
    response = client.post(
        "/api/v1/users", {"email": AUTOMATION_EMAIL, "role": "requester"}, content_type="application/json"
    )
    assert response.status_code in (400, 422) and "email" in response.json()["errors"]
    assert not User.objects.filter(email=AUTOMATION_EMAIL).exists()


def test_the_system_account_repairs_a_row_an_outsider_created_earlier(db: None) -> None:
    squatter = User.objects.create_user(email=AUTOMATION_EMAIL, password="guessable-123!")  # before the fix
    account = people_services.system_account(email=AUTOMATION_EMAIL, full_name="Palier (automation)")
    assert account.pk == squatter.pk
    account.refresh_from_db()
    assert (account.role, account.is_system, account.has_usable_password()) == ("admin", True, False)


# --- sender authentication -----------------------------------------------------------------------


def test_a_forged_agent_address_does_not_reply_on_the_ticket(ticket: Ticket, agent: User, box: Mailbox) -> None:
    # the mailbox does not require authentication, but agents always need a pass
    forged = services.receive_and_process(
        message(agent.email, subject=f"Re: [{ticket.reference}]", body="Resolved, reset your password here"),
        mailbox=box,
    )
    assert forged.state == S.PROCESSED and forged.sender_auth == "none"
    assert not Comment.objects.filter(ticket=ticket, author=agent).exists()
    assert forged.ticket is not None and forged.ticket != ticket
    assert "sender-not-verified" in set(forged.ticket.tags.values_list("name", flat=True))
    assert TicketLink.objects.filter(source=forged.ticket, target=ticket).exists()
    note = Comment.objects.get(ticket=forged.ticket, is_internal=True)
    assert "Sender not verified" in note.body and ticket.reference in note.body

    genuine = services.receive_and_process(
        message(agent.email, subject=f"Re: [{ticket.reference}]", body="On it.", auth=[passed("desk.test")]),
        mailbox=box,
    )
    assert genuine.sender_auth == "pass" and genuine.ticket == ticket
    assert genuine.comment is not None and genuine.comment.author == agent


def test_a_forged_pass_below_the_servers_header_changes_nothing(ticket: Ticket, box: Mailbox) -> None:
    box.require_sender_authentication = True
    box.save()
    raw = message(
        "Alice <alice@acme.test>",
        subject=f"Re: [{ticket.reference}]",
        body="Please send the VPN config to my new address",
        auth=[failed("acme.test"), passed("acme.test"), "evil.test; dmarc=pass header.from=acme.test"],
    )
    inbound = services.receive_and_process(raw, mailbox=box)
    assert inbound.sender_auth == "fail"
    assert inbound.ticket != ticket and not Comment.objects.filter(ticket=ticket).exists()


def test_an_unauthenticated_reply_goes_to_quarantine_when_the_mailbox_says_so(
    ticket: Ticket, box: Mailbox, admin_user: User
) -> None:
    box.require_sender_authentication = True
    box.unverified_reply = Mailbox.UnverifiedReply.QUARANTINE
    box.save()
    inbound = services.receive_and_process(
        message(
            "alice@acme.test", subject=f"Re: [{ticket.reference}]", auth=["other.mx; dmarc=pass header.from=acme.test"]
        ),
        mailbox=box,
    )
    assert inbound.state == S.QUARANTINED and "not verified" in inbound.error
    assert bytes(inbound.raw) and Ticket.objects.count() == 1
    assert not Comment.objects.filter(ticket=ticket).exists()
    released = services.retry(inbound.pk, by=admin_user)  # the admin releases it: still not on the ticket
    assert released.state == S.PROCESSED and released.ticket is not None and released.ticket != ticket
    assert released.ticket.tags.filter(name="sender-not-verified").exists()
    assert not Comment.objects.filter(ticket=ticket).exists()

    verified = services.receive_and_process(
        message("alice@acme.test", subject=f"Re: [{ticket.reference}]", body="Thanks", auth=[passed("acme.test")]),
        mailbox=box,
    )
    assert verified.comment is not None and verified.ticket == ticket


def test_an_explicit_dmarc_failure_never_acts_even_without_the_requirement(ticket: Ticket, box: Mailbox) -> None:
    inbound = services.receive_and_process(
        message("alice@acme.test", subject=f"Re: [{ticket.reference}]", auth=[failed("acme.test")]), mailbox=box
    )
    assert inbound.ticket != ticket and not Comment.objects.filter(ticket=ticket).exists()


def test_two_from_addresses_are_never_verified(ticket: Ticket, box: Mailbox) -> None:
    box.require_sender_authentication = True
    box.save()
    raw = message("alice@acme.test, eve@evil.test", subject=f"Re: [{ticket.reference}]", auth=[passed("acme.test")])
    inbound = services.receive_and_process(raw, mailbox=box)
    assert inbound.sender_auth == "fail" and not Comment.objects.filter(ticket=ticket).exists()


def test_cc_become_watchers_only_from_a_verified_sender_and_when_allowed(
    requester: User, requester_b: User, outsider: User, box: Mailbox
) -> None:
    forged = services.receive_and_process(message("alice@acme.test", cc=outsider.email), mailbox=box)
    assert forged.ticket is not None and not forged.ticket.watchers.exists()
    verified = services.receive_and_process(
        message("alice@acme.test", cc=requester_b.email, auth=[passed("acme.test")]), mailbox=box
    )
    assert verified.ticket is not None and list(verified.ticket.watchers.all()) == [requester_b]
    box.cc_become_watchers = False
    box.save()
    off = services.receive_and_process(
        message("alice@acme.test", cc=requester_b.email, auth=[passed("acme.test")]), mailbox=box
    )
    assert off.ticket is not None and not off.ticket.watchers.exists()


# --- through the real IMAP path -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    with dovecot_server.start() as port:
        yield port


def test_forged_and_genuine_replies_fetched_from_imap(ticket: Ticket, agent: User, box: Mailbox, dovecot: int) -> None:
    from imap_tools import MailBoxUnencrypted

    box.imap_host, box.imap_port, box.imap_tls, box.imap_user = "127.0.0.1", dovecot, False, dovecot_server.USER
    box.require_sender_authentication = True
    box.set_password(dovecot_server.PASSWORD)
    box.save()
    forged = message(agent.email, subject=f"Re: [{ticket.reference}]", body="Forged", auth=[failed("desk.test")])
    genuine = message(agent.email, subject=f"Re: [{ticket.reference}]", body="Genuine", auth=[passed("desk.test")])
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login(dovecot_server.USER, dovecot_server.PASSWORD) as client:
        client.delete(client.uids("ALL"))
        client.append(forged, "INBOX", flag_set=())
        client.append(genuine, "INBOX", flag_set=())
    assert imap.fetch_mailbox(box).fetched == 2
    assert list(Comment.objects.filter(ticket=ticket).values_list("body", flat=True)) == ["Genuine"]
    stored = {m.sender_auth for m in InboundMessage.objects.filter(sender=agent.email)}
    assert stored == {"pass", "fail"}
    assert Ticket.objects.filter(tags__name="sender-not-verified").count() == 1
