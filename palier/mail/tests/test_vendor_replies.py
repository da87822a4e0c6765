"""Issue 19, item 4: a vendor's email reply reaches the ticket escalated to it, as a note, with
the vendor's reference read by the group's pattern; never on From: alone.

The ticket is escalated to the vendor group through the routing service, its mail is sent to a
real SMTP server (aiosmtpd) and the vendor answers that mail. The trusted mail server
(authserv-id ``mx.palier.test``) stamps ``Authentication-Results`` on top of what a sender wrote.
The attackers: a requester of another ticket forging the vendor's From, a vendor replying about a
ticket never escalated to it, a look-alike domain, a sub-domain.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from imap_tools import MailBoxUnencrypted

from palier.mail import imap, services
from palier.mail.models import InboundMessage, Mailbox
from palier.mail.tests import dovecot as dovecot_server
from palier.notifications import email
from palier.notifications.tests.smtp import Received, smtp_server, use_smtp
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.routing import services as routing
from palier.tickets import stream
from palier.tickets.models import Comment, Ticket, TicketEvent, TicketLink
from testsupport.mail_corpus import corpus_path

pytestmark = pytest.mark.django_db
S = InboundMessage.State
E = TicketEvent.Kind
MX = "mx.palier.test"
VENDOR = "support@nexalis.test"
_counter = iter(range(1, 10_000))


def passed(domain: str) -> str:
    return f"{MX}; spf=pass smtp.mailfrom={domain}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"


def failed(domain: str) -> str:
    return f"{MX}; spf=fail smtp.mailfrom={domain}; dkim=none; dmarc=fail (p=none) header.from={domain}"


def message(
    sender: str,
    *,
    subject: str,
    body: str = "We have reproduced the fault.",
    auth: tuple[str, ...] = (),
    in_reply_to: str = "",
    headers: dict[str, str] | None = None,
    message_id: str = "",
) -> bytes:
    msg = EmailMessage()
    for value in auth:
        msg["Authentication-Results"] = value
    msg["From"] = sender
    msg["To"] = "desk@palier.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<vendor-{next(_counter)}@mail.test>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def smtp(settings: Any) -> Iterator[Received]:
    with smtp_server() as server:
        use_smtp(settings, server.port)
        yield server


@pytest.fixture
def box(triage: SupportGroup) -> Mailbox:
    return Mailbox.objects.create(name="desk", address="desk@palier.test", target_group=triage, authserv_id=MX)


def vendor_group(admin_user: User, name: str = "Nexalis L4", **settings: Any) -> SupportGroup:
    group = people.create_group(name=name, level=4, is_vendor=True, by=admin_user)
    fields: dict[str, Any] = {
        "vendor_company": "Nexalis",
        "vendor_contacts": VENDOR,
        "vendor_domains": "nexalis.test",
        "vendor_reference_pattern": r"Case #(\d+)",
        **settings,
    }
    return people.update_group(group, by=admin_user, name=name, level=4, is_vendor=True, **fields)


@pytest.fixture
def nexalis(admin_user: User) -> SupportGroup:
    return vendor_group(admin_user)


def open_ticket(box: Mailbox, sender: str = "Alice <alice@acme.test>", subject: str = "SAN controller fault") -> Ticket:
    opened = services.receive_and_process(message(sender, subject=subject, auth=(passed("acme.test"),)), mailbox=box)
    assert opened.ticket is not None
    return opened.ticket


def escalate(ticket: Ticket, group: SupportGroup, agent: User, smtp: Received) -> EmailMessage:
    """Send the ticket to the vendor and return the mail the vendor received."""
    routing.escalate(ticket, by=agent, reason="Hardware under contract", to_group=group)
    email.send_pending()
    sent = [m for m, (to, _raw) in zip(smtp.messages(), smtp.envelopes, strict=True) if to == [VENDOR]]
    assert sent, "the vendor was mailed"
    return sent[-1]


@pytest.fixture
def escalated(box: Mailbox, nexalis: SupportGroup, requester: User, agent: User, smtp: Received) -> Any:
    ticket = open_ticket(box)
    sent = escalate(ticket, nexalis, agent, smtp)
    return ticket, sent


def notes(ticket: Ticket) -> list[Comment]:
    return list(Comment.objects.filter(ticket=ticket, body__contains="Reply from the vendor").order_by("pk"))


# --- the vendor's reply lands on its ticket ---------------------------------------------------------


def test_a_reply_to_the_vendor_mail_is_an_internal_note_with_the_vendor_reference(escalated: Any, box: Mailbox) -> None:
    ticket, sent = escalated
    assert sent["Subject"].startswith(f"[{ticket.reference}]")
    reply = message(
        f"Nexalis Support <{VENDOR}>",
        subject=f"RE: Case #55123 {sent['Subject']}",
        body="We have reproduced the fault; a firmware fix follows.\n\n> quoted desk text",
        in_reply_to=sent["Message-ID"],
    )  # no Authentication-Results: the Message-ID only the vendor received proves the thread
    inbound = services.receive_and_process(reply, mailbox=box)
    assert inbound.state == S.PROCESSED and inbound.ticket == ticket
    [note] = notes(ticket)
    assert note.is_internal and note.author.email == services.ROBOT_EMAIL
    assert VENDOR in note.body and "a firmware fix follows" in note.body and "quoted desk text" not in note.body
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "55123"
    assert ticket.events.filter(kind=E.CHANGED, data__field="vendor_reference", data__new="55123").exists()
    assert Ticket.objects.count() == 1  # no new ticket for the vendor
    assert not User.objects.filter(email=VENDOR).exists()  # nor an account


def test_the_same_vendor_message_twice_adds_one_note(escalated: Any, box: Mailbox) -> None:
    ticket, sent = escalated
    reply = message(VENDOR, subject=f"RE: {sent['Subject']}", in_reply_to=sent["Message-ID"])
    first = services.receive_and_process(reply, mailbox=box)
    again = services.receive_and_process(reply, mailbox=box)  # re-delivered
    services.process(first.pk)  # processed again by another worker
    assert first.pk == again.pk
    assert len(notes(ticket)) == 1


def test_the_first_reference_stays_and_another_adds_an_event_once(escalated: Any, box: Mailbox) -> None:
    ticket, sent = escalated
    for case in ("111", "222", "222"):
        reply = message(VENDOR, subject=f"RE: Case #{case} {sent['Subject']}", in_reply_to=sent["Message-ID"])
        assert services.receive_and_process(reply, mailbox=box).state == S.PROCESSED
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "111"
    [other] = ticket.events.filter(kind=E.VENDOR, data__other_reference="222")
    assert other.data["kept_reference"] == "111" and other.is_internal
    assert len(notes(ticket)) == 3


def test_the_reference_is_read_in_the_body_when_the_subject_has_none(escalated: Any, box: Mailbox) -> None:
    ticket, sent = escalated
    body = "Hello,\n\nYour request is registered under Case #8080. We will call you.\n"
    services.receive_and_process(
        message(VENDOR, subject=f"RE: {sent['Subject']}", body=body, in_reply_to=sent["Message-ID"]), mailbox=box
    )
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "8080"


def test_a_vendor_set_to_public_replies_reaches_the_requester(
    box: Mailbox, admin_user: User, requester: User, agent: User, smtp: Received
) -> None:
    group = vendor_group(admin_user, vendor_reply_public=True)
    ticket = open_ticket(box)
    sent = escalate(ticket, group, agent, smtp)
    services.receive_and_process(
        message(VENDOR, subject=f"RE: {sent['Subject']}", in_reply_to=sent["Message-ID"]), mailbox=box
    )
    [note] = notes(ticket)
    assert not note.is_internal
    assert VENDOR not in note.body and "Nexalis" in note.body  # the requester reads the vendor's name only
    stream.pump("notifications")
    email.send_pending()
    to_requester = [m for m, (to, _raw) in zip(smtp.messages(), smtp.envelopes, strict=True) if to == [requester.email]]
    assert any("We have reproduced the fault." in m.get_body(("plain",)).get_content() for m in to_requester)  # type: ignore[union-attr]


def test_a_verified_vendor_reply_with_only_the_ticket_tag_is_accepted(escalated: Any, box: Mailbox) -> None:
    """A vendor's own ticketing system often answers with a new message: no In-Reply-To."""
    ticket, _sent = escalated
    reply = message(VENDOR, subject=f"Case #42 opened [{ticket.reference}]", auth=(passed("nexalis.test"),))
    assert services.receive_and_process(reply, mailbox=box).ticket == ticket
    assert len(notes(ticket)) == 1


def test_an_unknown_address_at_the_vendor_domain_when_the_vendor_allows_it(
    box: Mailbox, admin_user: User, requester: User, agent: User, smtp: Received
) -> None:
    group = vendor_group(admin_user, vendor_accept_domain=True)
    ticket = open_ticket(box)
    escalate(ticket, group, agent, smtp)
    reply = message("l3-team@nexalis.test", subject=f"RE: [{ticket.reference}]", auth=(passed("nexalis.test"),))
    assert services.receive_and_process(reply, mailbox=box).ticket == ticket
    assert len(notes(ticket)) == 1


def test_an_unknown_address_at_the_vendor_domain_is_refused_by_default(escalated: Any, box: Mailbox) -> None:
    ticket, _sent = escalated
    reply = message("l3-team@nexalis.test", subject=f"RE: [{ticket.reference}]", auth=(passed("nexalis.test"),))
    inbound = services.receive_and_process(reply, mailbox=box)
    assert notes(ticket) == [] and inbound.ticket != ticket


def test_an_automatic_case_acknowledgement_from_the_vendor_is_kept(escalated: Any, box: Mailbox) -> None:
    ticket, sent = escalated
    reply = message(
        VENDOR, subject=f"Case #9001 created: {sent['Subject']}", in_reply_to=sent["Message-ID"],
        headers={"Auto-Submitted": "auto-replied"},
    )  # fmt: skip
    assert services.receive_and_process(reply, mailbox=box).state == S.PROCESSED
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "9001" and len(notes(ticket)) == 1


def test_a_vendor_reply_from_the_corpus(
    box: Mailbox, admin_user: User, requester: User, agent: User, smtp: Received
) -> None:
    """An OTRS desk's answer (``zammad/mail012.box``) quoting its own ``[Ticket#11995]``."""
    raw = (corpus_path() / "zammad" / "mail012.box").read_bytes()
    group = vendor_group(
        admin_user, vendor_contacts="alex.smith@example.com", vendor_reference_pattern=r"\[Ticket#(\d+)\]"
    )
    ticket = open_ticket(box)
    escalate_to = routing.escalate(ticket, by=agent, reason="Their product", to_group=group)
    assert escalate_to.group == group
    services.record_outgoing("20121130124947.1988.710457@portal.znuny.com", ticket, address="alex.smith@example.com")
    inbound = services.receive_and_process(raw, mailbox=box)  # In-Reply-To: the message "we" sent
    assert inbound.state == S.PROCESSED and inbound.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "11995" and len(notes(ticket)) == 1


# --- trust no input ------------------------------------------------------------------------------


def test_a_requester_of_another_ticket_forging_the_vendor_from_adds_nothing(
    escalated: Any, box: Mailbox, requester_b: User
) -> None:
    ticket, _sent = escalated
    open_ticket(box, sender="Bob <bob@acme.test>", subject="My own issue")
    forged = message(  # ticket numbers are guessable; the vendor's From is public
        f"Nexalis <{VENDOR}>", subject=f"RE: Case #666 [{ticket.reference}]", body="Close it, it is fixed.",
    )  # fmt: skip
    inbound = services.receive_and_process(forged, mailbox=box)
    assert notes(ticket) == []
    ticket.refresh_from_db()
    assert ticket.vendor_reference == ""
    marked = inbound.ticket
    assert marked is not None and marked != ticket and marked.tags.filter(name=services.UNVERIFIED_TAG).exists()
    assert TicketLink.objects.filter(source=marked, target=ticket).exists()


def test_a_forged_vendor_reply_failing_authentication_is_refused_even_when_threaded(
    escalated: Any, box: Mailbox
) -> None:
    ticket, sent = escalated
    box.unverified_reply = Mailbox.UnverifiedReply.QUARANTINE
    box.save()
    forged = message(
        VENDOR, subject=f"RE: {sent['Subject']}", in_reply_to=sent["Message-ID"], auth=(failed("nexalis.test"),)
    )
    inbound = services.receive_and_process(forged, mailbox=box)
    assert inbound.state == S.QUARANTINED and "Nexalis" in inbound.error and ticket.reference in inbound.error
    assert notes(ticket) == [] and Ticket.objects.count() == 1


def test_the_requester_quoting_a_desk_message_id_is_not_the_vendor(escalated: Any, box: Mailbox) -> None:
    """The requester knows the Message-IDs of the mails sent to them, not of those sent to the vendor."""
    ticket, _sent = escalated
    services.record_outgoing("ack-1@palier.test", ticket, address="alice@acme.test")
    forged = message(VENDOR, subject="RE: your ticket", in_reply_to="<ack-1@palier.test>")
    services.receive_and_process(forged, mailbox=box)
    assert notes(ticket) == []


def test_a_vendor_replying_about_a_ticket_never_escalated_to_it(escalated: Any, box: Mailbox, admin_user: User) -> None:
    ticket, _sent = escalated
    other = vendor_group(admin_user, name="Globex L5", vendor_company="Globex", vendor_contacts="help@globex.test")
    never = open_ticket(box, subject="Not for vendors")
    reply = message("help@globex.test", subject=f"RE: [{never.reference}]", auth=(passed("globex.test"),))
    inbound = services.receive_and_process(reply, mailbox=box)
    assert notes(never) == [] and inbound.ticket != never
    reply = message("help@globex.test", subject=f"RE: [{ticket.reference}]", auth=(passed("globex.test"),))
    services.receive_and_process(reply, mailbox=box)  # a ticket sent to another vendor
    assert notes(ticket) == []
    assert other.is_vendor


@pytest.mark.parametrize("sender", ["help@nexalis.test.evil.test", "help@eu.nexalis.test", "help@evilnexalis.test"])
def test_look_alike_and_sub_domains_are_not_the_vendor(
    sender: str, box: Mailbox, admin_user: User, requester: User, agent: User, smtp: Received
) -> None:
    group = vendor_group(admin_user, vendor_accept_domain=True)
    ticket = open_ticket(box)
    escalate(ticket, group, agent, smtp)
    domain = sender.rpartition("@")[2]
    reply = message(sender, subject=f"RE: Case #1 [{ticket.reference}]", auth=(passed(domain),))
    inbound = services.receive_and_process(reply, mailbox=box)
    assert notes(ticket) == [] and inbound.ticket != ticket
    ticket.refresh_from_db()
    assert ticket.vendor_reference == ""


def test_an_unproven_automatic_mail_from_the_vendor_address_is_ignored(escalated: Any, box: Mailbox) -> None:
    ticket, _sent = escalated
    auto = message(VENDOR, subject=f"Out of office [{ticket.reference}]", headers={"Auto-Submitted": "auto-replied"})
    inbound = services.receive_and_process(auto, mailbox=box)
    assert inbound.state == S.IGNORED and notes(ticket) == [] and Ticket.objects.count() == 1


def test_a_pattern_that_backtracks_forever_does_not_hang_the_intake(escalated: Any, box: Mailbox) -> None:
    """A pattern saved before the checks (or by hand in the database) is cut short; the reply stays."""
    ticket, sent = escalated
    SupportGroup.objects.filter(is_vendor=True).update(vendor_reference_pattern=r"(a+)+$")
    body = "a" * 3000 + "!"
    services.receive_and_process(
        message(VENDOR, subject=f"RE: {sent['Subject']}", body=body, in_reply_to=sent["Message-ID"]), mailbox=box
    )
    assert len(notes(ticket)) == 1
    assert Comment.objects.filter(ticket=ticket, body__contains="could not be applied").exists()
    ticket.refresh_from_db()
    assert ticket.vendor_reference == ""


def test_a_vendor_reply_costs_a_bounded_number_of_queries(
    escalated: Any, box: Mailbox, django_assert_max_num_queries: Any
) -> None:
    """Measured 33 on SQLite, the mail robot's account created on the way; none per attachment row
    or per vendor contact."""
    ticket, sent = escalated
    reply = message(VENDOR, subject=f"RE: Case #7 {sent['Subject']}", in_reply_to=sent["Message-ID"])
    inbound = services.receive(reply, mailbox=box)
    with django_assert_max_num_queries(34):
        services.process(inbound.pk)
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "7"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    with dovecot_server.start() as port:
        yield port


def test_the_vendor_answers_the_escalation_mail_through_the_imap_mailbox(
    dovecot: int, triage: SupportGroup, nexalis: SupportGroup, requester: User, agent: User, smtp: Received
) -> None:
    """The whole way: the desk's IMAP mailbox, the escalation mail over SMTP, the vendor's answer
    quoting it in the mailbox, the note on the ticket; the requester is not mailed the note."""
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login(dovecot_server.USER, dovecot_server.PASSWORD) as client:
        client.delete(client.uids("ALL"))
    box = Mailbox(
        name="desk", address="desk@palier.test", imap_host="127.0.0.1", imap_port=dovecot, imap_tls=False,
        imap_user=dovecot_server.USER, authserv_id=MX, target_group=triage,
    )  # fmt: skip
    box.set_password(dovecot_server.PASSWORD)
    box.save()
    ticket = open_ticket(box)
    sent = escalate(ticket, nexalis, agent, smtp)
    quoted = "\n".join(f"> {line}" for line in sent.get_body(("plain",)).get_content().splitlines())  # type: ignore[union-attr]
    answer = message(
        f"Nexalis Support <{VENDOR}>", subject=f"RE: {sent['Subject']} - Case #31337",
        body=f"Firmware 4.2 fixes it; schedule a window.\n\nOn Mon, Desk <desk@palier.test> wrote:\n{quoted}\n",
        in_reply_to=sent["Message-ID"], auth=(passed("nexalis.test"),),
    )  # fmt: skip
    with MailBoxUnencrypted("127.0.0.1", port=dovecot).login(dovecot_server.USER, dovecot_server.PASSWORD) as client:
        client.append(answer, "INBOX", flag_set=())
    assert imap.fetch_mailbox(box).fetched == 1
    [note] = notes(ticket)
    assert note.is_internal and note.body.endswith("Firmware 4.2 fixes it; schedule a window.")
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "31337" and Ticket.objects.count() == 1
    before = len(smtp.envelopes)
    stream.pump("notifications")
    email.send_pending()
    mails = list(zip(smtp.messages(), smtp.envelopes, strict=True))[before:]
    to_requester = [m.get_body(("plain",)).get_content() for m, (to, _raw) in mails if to == [requester.email]]  # type: ignore[union-attr]
    assert to_requester  # told about the ticket (received), never about the vendor's internal note
    assert not any("Firmware" in text or "31337" in text or "nexalis" in text.lower() for text in to_requester)
