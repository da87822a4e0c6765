"""Store first, then process: tickets, comments, threading, duplicates, loops, quarantine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.mail import services
from palier.mail.models import InboundMessage, Mailbox, MessageRecord
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, Ticket, TicketLink

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client: Client) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assertions read the English source strings


Build = Callable[..., bytes]
S = InboundMessage.State


def deliver(raw: bytes, mailbox: Mailbox | None = None) -> InboundMessage:
    return services.receive_and_process(raw, mailbox=mailbox)


def test_new_mail_from_a_known_requester_opens_an_email_ticket(requester: User, email_bytes: Build) -> None:
    inbound = deliver(email_bytes(sender="ALICE@Acme.test"))
    assert inbound.state == S.PROCESSED
    ticket = inbound.ticket
    assert ticket is not None
    assert (ticket.requester, ticket.channel, ticket.subject) == (requester, "email", "Printer jammed")
    assert ticket.description == "The printer on floor 2 is jammed."
    assert MessageRecord.objects.get(message_id="m1@acme.test").ticket == ticket


def test_unknown_sender_becomes_a_requester_or_is_quarantined(db: None, email_bytes: Build) -> None:
    inbound = deliver(email_bytes(sender="Zoé Petit <zoe@elsewhere.test>"))
    user = User.objects.get(email="zoe@elsewhere.test")
    # the display name is the sender's own text: not taken as the name (it would be echoed in mails)
    assert (user.full_name, user.role, inbound.ticket.requester) == ("", "requester", user)  # type: ignore[union-attr]

    strict = Mailbox.objects.create(name="strict", address="strict@palier.test", create_unknown_senders=False)
    refused = deliver(email_bytes(sender="nobody@elsewhere.test", message_id="m2@x"), strict)
    assert refused.state == S.QUARANTINED
    assert "nobody@elsewhere.test" in refused.error
    assert not User.objects.filter(email="nobody@elsewhere.test").exists()


def test_mailbox_targets_and_allowed_domains(requester: User, triage: object, email_bytes: Build) -> None:
    box = Mailbox.objects.create(
        name="it",
        address="it@palier.test",
        target_group=triage,
        target_kind="request",
        allowed_sender_domains="acme.test",
    )
    ticket = deliver(email_bytes(), box).ticket
    assert ticket is not None and (ticket.group, ticket.kind) == (triage, "request")
    other = deliver(email_bytes(sender="eve@evil.test", message_id="m9@evil"), box)
    assert other.state == S.QUARANTINED and "evil.test" in other.error


def test_same_message_twice_gives_one_ticket(requester: User, email_bytes: Build) -> None:
    """The same message re-fetched after a crash, or delivered by another route (another desk
    address, a forward rule: other trace headers), is one message."""
    first = deliver(email_bytes())
    again = deliver(b"Received: from mx2.acme.test by palier.test\r\nDelivered-To: it@palier.test\r\n" + email_bytes())
    assert again.pk == first.pk
    assert Ticket.objects.count() == 1 and InboundMessage.objects.count() == 1


def test_a_different_message_reusing_a_message_id_is_kept(requester: User, email_bytes: Build) -> None:
    """Some mailers and scripts reuse a Message-ID: a message with other content is not dropped."""
    first = deliver(email_bytes())
    other = deliver(email_bytes(subject="VPN down", body="The VPN refuses my password."))
    assert other.pk != first.pk and other.state == S.PROCESSED
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["Printer jammed", "VPN down"]
    assert deliver(email_bytes(subject="VPN down", body="The VPN refuses my password.")).pk == other.pk


def test_messages_without_message_id_are_deduplicated_by_content(requester: User, email_bytes: Build) -> None:
    raw = email_bytes(message_id="")
    deliver(raw)
    deliver(raw)
    deliver(email_bytes(message_id="", body="another one"))
    assert Ticket.objects.count() == 2


def test_a_reply_processed_before_its_parent_still_joins_the_parents_ticket(
    requester: User, email_bytes: Build
) -> None:
    # two workers took the queued messages in the wrong order: the reply comes first
    parent = services.receive(email_bytes(message_id="p1@acme.test"))
    middle = services.receive(email_bytes(message_id="p2@acme.test", headers="In-Reply-To: <p1@acme.test>", body="Up"))
    reply = services.receive(
        email_bytes(message_id="p3@acme.test", headers="References: <p1@acme.test> <p2@acme.test>", body="Again")
    )
    processed = services.process(reply.pk)
    parent.refresh_from_db()
    middle.refresh_from_db()
    assert parent.state == middle.state == processed.state == S.PROCESSED
    assert parent.ticket is not None and middle.ticket == processed.ticket == parent.ticket
    assert Ticket.objects.count() == 1
    assert list(Comment.objects.order_by("pk").values_list("body", flat=True)) == ["Up", "Again"]
    assert services.process(parent.pk).state == S.PROCESSED and Ticket.objects.count() == 1


def test_reply_threads_by_in_reply_to_references_and_subject_tag(requester: User, email_bytes: Build) -> None:
    ticket = deliver(email_bytes()).ticket
    assert ticket is not None
    services.record_outgoing("<notif-1@palier.test>", ticket)
    by_reply_to = deliver(
        email_bytes(
            message_id="m2@acme.test",
            subject="Re: Printer jammed",
            headers="In-Reply-To: <notif-1@palier.test>",
            body="Still jammed.\n\nOn Mon, Mar 3, 2025 at 10:02 AM Desk <desk@palier.test> wrote:\n> Did you restart it?",
        )
    )
    assert by_reply_to.ticket == ticket
    assert by_reply_to.comment is not None and by_reply_to.comment.body == "Still jammed."
    assert by_reply_to.comment.channel == "email" and not by_reply_to.comment.is_internal
    assert "Did you restart it?" in by_reply_to.full_text  # the quoted text stays available
    by_references = deliver(
        email_bytes(message_id="m3@acme.test", headers="References: <unknown@x> <m2@acme.test>", body="Third")
    )
    assert by_references.ticket == ticket
    by_tag = deliver(email_bytes(message_id="m4@acme.test", subject=f"Re: [{ticket.reference}] printer", body="Tag"))
    assert by_tag.ticket == ticket
    assert Comment.objects.filter(ticket=ticket).count() == 3
    assert Ticket.objects.count() == 1


def test_stranger_replying_to_someone_elses_ticket_opens_a_new_linked_ticket(
    requester: User, requester_b: User, outsider: User, email_bytes: Build
) -> None:
    ticket = deliver(email_bytes()).ticket
    assert ticket is not None
    intrusion = deliver(
        email_bytes(sender=outsider.email, message_id="m2@x", subject=f"Re: [{ticket.reference}]", body="Me too")
    )
    assert intrusion.ticket is not None and intrusion.ticket != ticket
    assert intrusion.ticket.requester == outsider
    assert TicketLink.objects.filter(source=intrusion.ticket, target=ticket, kind="related").exists()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_watchers_agents_and_organisation_colleagues_may_reply(
    requester: User, requester_b: User, agent: User, triage: object, email_bytes: Build, settings: object
) -> None:
    box = Mailbox.objects.create(name="it", address="desk@palier.test", target_group=triage, authserv_id="mx.test")
    verified = "\nAuthentication-Results: mx.test; dmarc=pass header.from=acme.test"  # Cc only from verified senders
    ticket = deliver(email_bytes(headers=f"Cc: {requester_b.email}{verified}"), box).ticket
    assert ticket is not None and list(ticket.watchers.all()) == [requester_b]
    watcher = deliver(email_bytes(sender=requester_b.email, message_id="w@x", subject=f"[{ticket.reference}]"), box)
    assert watcher.comment is not None and watcher.comment.author == requester_b
    agent_pass = "Authentication-Results: mx.test; dkim=pass header.d=desk.test"  # agents always need a pass
    from_agent = deliver(
        email_bytes(sender=agent.email, message_id="a@x", subject=f"[{ticket.reference}]", headers=agent_pass), box
    )
    assert from_agent.comment is not None and from_agent.ticket == ticket

    colleague = User.objects.create_user(email="carol@acme.test", organisation=requester.organisation)
    refused = deliver(email_bytes(sender=colleague.email, message_id="c1@x", subject=f"[{ticket.reference}]"), box)
    assert refused.ticket != ticket
    settings.PALIER_MAIL_TRUST_ORGANISATION_DOMAIN = True
    accepted = deliver(email_bytes(sender=colleague.email, message_id="c2@x", subject=f"[{ticket.reference}]"), box)
    assert accepted.ticket == ticket and accepted.comment is not None


def test_reply_to_a_closed_ticket_opens_a_linked_ticket(requester: User, admin_user: User, email_bytes: Build) -> None:
    ticket = deliver(email_bytes()).ticket
    assert ticket is not None
    ticket_services.transition_ticket(ticket, by=admin_user, to=Ticket.Status.CANCELLED)
    reply = deliver(email_bytes(message_id="m2@x", subject=f"Re: [{ticket.reference}]", body="Again"))
    assert reply.ticket != ticket
    assert TicketLink.objects.filter(source=reply.ticket, target=ticket).exists()


def test_auto_replies_never_open_tickets(requester: User, email_bytes: Build) -> None:
    for i, headers in enumerate(["Auto-Submitted: auto-replied", "Precedence: junk", "X-Autoreply: yes"]):
        assert deliver(email_bytes(message_id=f"a{i}@x", headers=headers)).state == S.IGNORED
    ooo = deliver(email_bytes(message_id="ooo@x", subject="Réponse automatique : absent du bureau"))
    assert ooo.state == S.IGNORED and ooo.ticket is None
    Mailbox.objects.create(name="other desk", address="it@palier.test")
    assert deliver(email_bytes(message_id="desk@x", sender="IT@palier.test")).state == S.IGNORED
    assert not Ticket.objects.exists()


def test_bounce_of_our_notification_is_noted_on_its_ticket(requester: User, email_bytes: Build) -> None:
    ticket = deliver(email_bytes()).ticket
    assert ticket is not None
    services.record_outgoing("notif-9@palier.test", ticket)
    bounce = (
        b"From: MAILER-DAEMON@mx.acme.test\r\nTo: desk@palier.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <b1@mx>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\r\n\r\n"
        b"--r\r\nContent-Type: text/plain\r\n\r\nSorry\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Final-Recipient: rfc822; alice@acme.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <notif-9@palier.test>\r\n--r--\r\n"
    )
    inbound = deliver(bounce)
    assert inbound.state == S.IGNORED and inbound.ticket == ticket
    note = Comment.objects.get(ticket=ticket)
    assert note.is_internal and "could not be delivered" in note.body
    assert Ticket.objects.count() == 1
    assert not User.objects.filter(email__icontains="mailer-daemon").exists()


def test_only_to_option_ignores_cc_copies(requester: User, email_bytes: Build) -> None:
    box = Mailbox.objects.create(name="it", address="desk@palier.test", require_address_in_to=True)
    cc_copy = deliver(email_bytes(to="someone@acme.test", headers="Cc: desk@palier.test"), box)
    assert cc_copy.state == S.IGNORED and not Ticket.objects.exists()
    assert deliver(email_bytes(message_id="m2@x"), box).state == S.PROCESSED


def test_processing_error_quarantines_then_retry_succeeds(
    requester: User, email_bytes: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(services, "_thread", broken)
    inbound = deliver(email_bytes())
    assert (inbound.state, inbound.attempts) == (S.QUARANTINED, 1)
    assert "database hiccup" in inbound.error and bytes(inbound.raw).startswith(b"From:")
    assert not Ticket.objects.exists()
    monkeypatch.undo()
    retried = services.retry(inbound.pk)
    assert (retried.state, retried.attempts, retried.error) == (S.PROCESSED, 2, "")
    assert Ticket.objects.count() == 1
    assert services.retry(inbound.pk).ticket == retried.ticket  # processed once only


def test_quarantine_page_for_admins_only_with_a_retry_button(
    client: Client, admin_user: User, agent: User, email_bytes: Build
) -> None:
    box = Mailbox.objects.create(name="strict", address="desk@palier.test", create_unknown_senders=False)
    inbound = deliver(email_bytes(sender="stranger@x.test"), box)
    url = reverse("mail:quarantine")
    client.force_login(agent)
    assert client.get(url).status_code == 404
    assert client.post(reverse("mail:retry", args=[inbound.pk])).status_code == 404
    client.force_login(admin_user)
    page = client.get(url)
    assert page.status_code == 200
    assert "stranger@x.test" in page.content.decode() and "Retry" in page.content.decode()
    box.create_unknown_senders = True
    box.save()
    response = client.post(reverse("mail:retry", args=[inbound.pk]))
    assert response.status_code == 302
    inbound.refresh_from_db()
    assert inbound.state == S.PROCESSED and inbound.ticket is not None


def test_attachments_arrive_on_the_ticket(requester: User) -> None:
    raw = (
        b"From: alice@acme.test\r\nSubject: Screenshot\r\nMessage-ID: <att@x>\r\n"
        b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nSee file\r\n'
        b'--m\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="log.txt"\r\n\r\nerror 42\r\n--m--\r\n'
    )
    ticket = deliver(raw).ticket
    assert ticket is not None
    assert [a.filename for a in ticket.attachments.all()] == ["log.txt"]


def test_mailbox_password_is_stored_encrypted(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    box = Mailbox(name="m", address="m@palier.test")
    box.set_password("s3cret!")
    assert "s3cret" not in box.password_encrypted and box.get_password() == "s3cret!"
    monkeypatch.setenv("PALIER_SECRET_MAILBOX_PW", "from-env")
    box.password_env = "PALIER_SECRET_MAILBOX_PW"
    assert box.get_password() == "from-env"


def test_storing_a_message_is_a_couple_of_queries(
    db: None, email_bytes: Build, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):  # the INSERT (inside the test's savepoint)
        first = services.receive(email_bytes())
    with django_assert_max_num_queries(5):  # the duplicate: the refused INSERT, then one lookup
        again = services.receive(email_bytes())
    assert again.pk == first.pk


def test_new_sender_created_concurrently_is_used(db: None) -> None:
    """Two messages from a new sender at once: the one whose account creation loses uses the winner's."""
    from palier.people import services as people

    winner = people.create_user(email="new@acme.test", full_name="New Person")  # the other message's
    assert services._new_requester("NEW@acme.test") == winner
