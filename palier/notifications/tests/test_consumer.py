"""Notification rules: who hears about which ticket event, by email and in the application."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from palier.notifications import email
from palier.notifications.models import Notification, NotificationPreference, OutgoingEmail
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.routing.services import escalation
from palier.tickets import services as tickets
from palier.tickets import stream
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    """Users without a language get the desk's default: English here, so assertions read the source."""
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


def pump() -> int:
    """Run the consumer (on PostgreSQL it passes the ids earlier tests rolled back at once: no
    transaction holds them)."""
    return stream.pump("notifications")


def deliver() -> list[EmailMultiAlternatives]:
    """Run the consumer over new events and send what it queued; returns the mails sent now."""
    before = len(mail.outbox)
    pump()
    email.send_pending()
    return list(mail.outbox[before:])  # type: ignore[arg-type]


def to(messages: list[EmailMultiAlternatives], address: str) -> list[EmailMultiAlternatives]:
    return [m for m in messages if m.to == [address]]


@pytest.fixture
def ticket(requester: User, agent: User) -> Ticket:
    ticket = make_ticket(requester)
    deliver()
    return Ticket.objects.get(pk=ticket.pk)


def test_created_acknowledges_the_requester_with_number_and_expectation(requester: User) -> None:
    ticket = make_ticket(requester, impact="medium", urgency="medium")
    sent = deliver()
    [ack] = to(sent, "alice@acme.test")
    assert ack.subject.startswith(f"[{ticket.reference}]")
    assert ticket.reference in ack.body
    assert "We usually answer within" in ack.body  # the SLA's expected first answer
    html = ack.alternatives[0][0]
    assert f"/portal/requests/{ticket.pk}/" in html and f"/portal/requests/{ticket.pk}/" in ack.body
    assert "<img" not in html and "<link" not in html and "@font-face" not in html  # nothing fetched remotely
    assert "http://127.0.0.1:8000/portal/" in html  # PALIER_BASE_URL's default
    assert ack.extra_headers["Auto-Submitted"] == "auto-generated"


def test_acknowledgement_in_the_requesters_language(requester: User) -> None:
    requester.language = "fr"
    requester.save(update_fields=["language"])
    make_ticket(requester)
    make_ticket(requester, impact="medium", urgency="medium")
    acks = to(deliver(), "alice@acme.test")
    assert "Nous répondons généralement" in acks[1].body  # the SLA sentence in French


def test_acknowledgements_are_rate_limited_per_address(requester: User) -> None:
    for _ in range(7):
        make_ticket(requester)
    assert len(to(deliver(), "alice@acme.test")) == 5


def test_agent_reply_reaches_requester_and_watchers_with_text(
    ticket: Ticket, requester: User, requester_b: User, agent: User
) -> None:
    tickets.add_watcher(ticket, user=requester_b, by=agent)
    tickets.comment_on_ticket(ticket, by=agent, body="Merci de redémarrer le poste.")
    sent = deliver()
    assert {m.to[0] for m in sent} == {"alice@acme.test", "bob@acme.test"}
    assert all("Merci de redémarrer le poste." in m.body for m in sent)
    assert Notification.objects.filter(recipient=requester, kind="reply", ticket=ticket).count() == 1
    assert not Notification.objects.filter(recipient=agent, kind="reply").exists()  # not their own reply


def test_requester_reply_reaches_the_assignee_not_the_requester(ticket: Ticket, requester: User, agent: User) -> None:
    tickets.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent})
    deliver()
    tickets.comment_on_ticket(Ticket.objects.get(pk=ticket.pk), by=requester, body="Toujours en panne.")
    sent = deliver()
    assert [m.to[0] for m in sent] == ["lea@desk.test"]
    assert f"/agent/tickets/{ticket.pk}/" in sent[0].body


def test_internal_note_never_reaches_the_requester(ticket: Ticket, requester: User, agent: User) -> None:
    tickets.add_watcher(ticket, user=requester, by=agent)
    tickets.comment_on_ticket(ticket, by=agent, body="Secret: @alice le mot de passe est faux", internal=True)
    assert deliver() == []
    assert not Notification.objects.filter(recipient=requester).exclude(kind="created").exists()


def test_status_changes_that_matter_to_the_requester(ticket: Ticket, requester: User, agent: User) -> None:
    ticket = tickets.transition_ticket(ticket, to="in_progress", by=agent)
    assert deliver() == []  # in progress is not worth an email
    ticket = tickets.transition_ticket(ticket, to="pending_requester", by=agent)
    [waiting] = deliver()
    assert waiting.to == ["alice@acme.test"] and "Pending requester" in waiting.subject
    tickets.transition_ticket(ticket, to="resolved", by=agent)
    [resolved] = deliver()
    assert "Resolved" in resolved.subject and "reopen" in resolved.body


def test_self_change_is_not_notified(ticket: Ticket, requester: User) -> None:
    tickets.comment_on_ticket(ticket, by=requester, body="@alice I add a detail")
    assert deliver() == []


def test_assignment_reaches_the_new_assignee(ticket: Ticket, agent: User, manager: User) -> None:
    tickets.update_ticket(ticket, by=manager, expected_version=None, changes={"assignee": agent})
    [assigned] = deliver()
    assert assigned.to == ["lea@desk.test"] and "Assigned to you" in assigned.subject
    assert Notification.objects.filter(recipient=agent, kind="assigned", ticket=ticket).exists()


def test_escalation_reaches_the_target_group(ticket: Ticket, agent: User, agent_l2: User, l2: SupportGroup) -> None:
    colleague = people.create_user(email="zoe@desk.test", role=User.Role.AGENT, password="pw-zoe-123!")
    people.add_group_member(l2, user=colleague)
    escalation.escalate(ticket, by=agent, reason="Besoin du réseau", to_group=l2)
    sent = deliver()
    escalated = [m for m in sent if "Escalated to Network L2" in m.subject]
    assert {m.to[0] for m in escalated} == {"marc@desk.test", "zoe@desk.test"}
    assert "Besoin du réseau" in escalated[0].body
    assert not to(sent, "alice@acme.test")  # an internal event


def test_mentions_by_email_or_local_part(
    ticket: Ticket, agent: User, agent_l2: User, manager: User, triage: SupportGroup
) -> None:
    colleague = people.create_user(email="zoe@desk.test", role=User.Role.AGENT, password="pw-zoe-123!")
    people.add_group_member(triage, user=colleague)
    body = "@nina et @zoe@desk.test, avis ? (@marc ne voit pas ce ticket)"
    tickets.comment_on_ticket(ticket, by=agent, body=body, internal=True)
    sent = deliver()
    assert {m.to[0] for m in sent} == {"nina@desk.test", "zoe@desk.test"}
    assert all("mentioned you in an internal note" in m.body for m in sent)
    assert Notification.objects.filter(recipient=colleague, kind="mention").exists()


def test_mention_in_internal_note_ignores_requesters(ticket: Ticket, agent: User, requester_b: User) -> None:
    tickets.comment_on_ticket(ticket, by=agent, body="voir avec @bob@acme.test", internal=True)
    assert deliver() == []


def test_redelivered_events_send_nothing_twice(ticket: Ticket, agent: User) -> None:
    tickets.comment_on_ticket(ticket, by=agent, body="Réponse")
    pump()
    from palier.notifications.consumer import handle_events
    from palier.tickets.models import TicketEvent

    handle_events(list(TicketEvent.objects.filter(ticket=ticket).order_by("pk")))  # a crash replay
    email.send_pending()
    assert len(to(list(mail.outbox), "alice@acme.test")) == 2  # the acknowledgement and the reply
    assert Notification.objects.filter(kind="reply").count() == 1


def test_preferences_are_respected(ticket: Ticket, requester: User, agent: User) -> None:
    NotificationPreference.objects.create(user=requester, event="reply", channel="email", enabled=False)
    tickets.comment_on_ticket(ticket, by=agent, body="Réponse")
    assert deliver() == []
    assert Notification.objects.filter(recipient=requester, kind="reply").exists()  # in-app still on
    NotificationPreference.objects.create(user=requester, event="reply", channel="in_app", enabled=False)
    tickets.comment_on_ticket(ticket, by=agent, body="Encore")
    deliver()
    assert Notification.objects.filter(recipient=requester, kind="reply").count() == 1


def test_one_bad_event_does_not_stop_the_others(ticket: Ticket, agent: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from palier.notifications import consumer

    real = consumer.plan

    def broken(event, ticket):  # type: ignore[no-untyped-def]
        if event.data.get("body_marker"):
            raise RuntimeError("boom")
        return real(event, ticket)

    tickets.comment_on_ticket(ticket, by=agent, body="Réponse")
    from palier.tickets import history

    history.record(ticket, "commented", by=agent, body_marker=True)
    monkeypatch.setattr(consumer, "plan", broken)
    assert len(deliver()) == 1


def test_consumer_queries_do_not_grow_with_events(
    requester: User, agent: User, django_assert_max_num_queries: object
) -> None:
    ticket = make_ticket(requester)
    deliver()
    for i in range(2):
        tickets.comment_on_ticket(ticket, by=agent, body=f"Réponse {i}")
    with django_assert_max_num_queries(60) as small:  # type: ignore[operator]
        pump()
    for i in range(8):
        tickets.comment_on_ticket(ticket, by=agent, body=f"Réponse {i}")
    with django_assert_max_num_queries(60 * 4) as large:  # type: ignore[operator]
        pump()
    per_event_small = len(small.captured_queries) / 2
    per_event_large = len(large.captured_queries) / 8
    assert per_event_large <= per_event_small  # a constant cost per event
    assert OutgoingEmail.objects.filter(key__endswith=":reply").count() == 10


def test_vendor_escalation_emails_the_vendor_contacts(ticket: Ticket, agent: User) -> None:
    vendor = people.create_group(name="SAN vendor", level=4, is_vendor=True)
    vendor.vendor_company = "Acme Corp"
    vendor.vendor_contacts = "support@acme.example\nnoc@acme.example"
    vendor.contract_reference = "CT-2026-7"
    vendor.save()
    escalation.escalate(ticket, by=agent, reason="Hardware under contract", to_group=vendor)
    sent = deliver()
    vendor_mails = [m for m in sent if m.to[0].endswith("@acme.example")]
    assert sorted(m.to[0] for m in vendor_mails) == ["noc@acme.example", "support@acme.example"]
    first = vendor_mails[0]
    assert first.subject == f"[{ticket.reference}] Support request under contract CT-2026-7: {ticket.subject}"
    assert ticket.description in first.body and "Hello Acme Corp" in first.body
    assert "Auto-Submitted" not in first.extra_headers  # the vendor's desk must not drop it
    # a vendor reply threads to the ticket through the Message-ID we sent
    from palier.mail.models import MessageRecord

    assert MessageRecord.objects.filter(ticket=ticket, direction="out").count() >= 2


def test_sla_warnings_and_breaches_cost_the_consumer_nothing(ticket: Ticket, django_assert_num_queries: object) -> None:
    """The sweep notified of them already; a burst of them must not cost a query each."""
    from palier.notifications.consumer import handle_events
    from palier.tickets import history
    from palier.tickets.models import TicketEvent

    pump()
    fired = [
        history.record(ticket, kind, by=None, internal=True, clock=1, generation=1)
        for kind in (TicketEvent.Kind.SLA_WARNING, TicketEvent.Kind.SLA_BREACH)
    ]
    with django_assert_num_queries(0):  # type: ignore[operator]
        handle_events(fired)
    assert deliver() == []


def test_an_event_whose_delivery_fails_is_retried_from_the_outbox(
    requester: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while handling an event (a template error, the database dropping the connection)
    no longer loses its notifications: the event waits in the outbox and is delivered once."""
    from django.utils import timezone

    from palier.core import outbox
    from palier.core.models import OutboxItem
    from palier.notifications import consumer

    real, calls = consumer.deliver, []

    def flaky(event: object) -> int:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("connection reset while rendering")
        return real(event)  # type: ignore[arg-type]

    monkeypatch.setattr(consumer, "deliver", flaky)
    ticket = make_ticket(requester)
    pump()
    assert not OutgoingEmail.objects.filter(ticket=ticket).exists()
    item = OutboxItem.objects.get(kind="notifications.event")
    assert item.state == "pending" and "connection reset" in item.last_error
    outbox.run_due(now=timezone.now() + timedelta(minutes=1))
    outbox.run_due(now=timezone.now() + timedelta(minutes=2))
    assert OutgoingEmail.objects.filter(ticket=ticket, address="alice@acme.test").count() == 1
    assert OutboxItem.objects.get(pk=item.pk).state == "done"
