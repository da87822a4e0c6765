"""Issue 14, hole 2: the desk is no relay and no sink.

A stranger writes with a display name and a subject of their choosing, from an address of their
choosing (a victim's): no acknowledgement goes out unless the sender is verified or from an
allowed domain, and nothing Palier sends repeats the display name. Floods are cut by hourly limits
per sender domain and in all, counted in the database; raw messages are not kept forever.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.utils import timezone

from palier import events
from palier.mail import services
from palier.mail.models import InboundMessage, Mailbox
from palier.notifications.models import OutgoingEmail
from palier.people.models import User
from palier.tickets import stream
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = InboundMessage.State
MX = "mx.palier.test"
PHISH = "Security team: your password expires, log in at http://evil.test"
_counter = iter(range(1, 10_000))


def message(sender: str, *, subject: str = "Printer jammed", verified_domain: str = "") -> bytes:
    msg = EmailMessage()
    if verified_domain:
        msg["Authentication-Results"] = f"{MX}; dmarc=pass header.from={verified_domain}"
    msg["From"] = sender
    msg["To"] = "desk@palier.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<abuse-{next(_counter)}@mail.test>"
    msg.set_content("Hello")
    return msg.as_bytes()


@pytest.fixture
def box(db: None) -> Mailbox:
    return Mailbox.objects.create(
        name="desk", address="desk@palier.test", authserv_id=MX, allowed_sender_domains="", create_unknown_senders=True
    )


def acknowledgements() -> list[OutgoingEmail]:
    stream.pump("notifications")
    return list(OutgoingEmail.objects.filter(key__endswith=":created"))


def test_a_stranger_gets_no_acknowledgement_and_their_display_name_is_never_echoed(box: Mailbox) -> None:
    inbound = services.receive_and_process(message(f'"{PHISH}" <victim@bank.test>', subject="Invoice"), mailbox=box)
    assert inbound.state == S.PROCESSED and inbound.ticket is not None
    assert acknowledgements() == []  # no backscatter to the forged address
    assert User.objects.get(email="victim@bank.test").full_name == ""  # the display name is not the name

    verified = services.receive_and_process(
        message(f'"{PHISH}" <carol@partner.test>', verified_domain="partner.test"), mailbox=box
    )
    [ack] = acknowledgements()
    assert ack.address == "carol@partner.test" and verified.acknowledge
    assert "evil.test" not in ack.text + ack.html + ack.subject


def test_allowed_domains_are_acknowledged_and_the_switch_turns_the_rule_off(box: Mailbox) -> None:
    box.allowed_sender_domains = "acme.test"
    box.save()
    services.receive_and_process(message("dan@acme.test"), mailbox=box)
    assert [a.address for a in acknowledgements()] == ["dan@acme.test"]
    box.allowed_sender_domains, box.acknowledge_trusted_only = "", False
    box.save()
    services.receive_and_process(message("erin@anywhere.test"), mailbox=box)
    assert sorted(a.address for a in acknowledgements()) == ["dan@acme.test", "erin@anywhere.test"]


def test_rate_limits_per_sender_domain_and_in_all(box: Mailbox, settings: Any, admin_user: User) -> None:
    settings.PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR = 2
    settings.PALIER_MAIL_TICKETS_PER_HOUR = 3
    states = [services.receive_and_process(message(f"u{n}@flood.test"), mailbox=box) for n in range(3)]
    assert [m.state for m in states] == [S.PROCESSED, S.PROCESSED, S.QUARANTINED]
    assert "Rate limit" in states[2].error and "flood.test" in states[2].error
    assert not User.objects.filter(email="u2@flood.test").exists()
    assert services.receive_and_process(message("a@other.test"), mailbox=box).state == S.PROCESSED
    over = services.receive_and_process(message("b@third.test"), mailbox=box)
    assert over.state == S.QUARANTINED and "in the last hour" in over.error
    assert Ticket.objects.count() == 3
    box.allowed_sender_domains = "flood.test"  # the organisation's own domain: only the global limit
    box.save()
    InboundMessage.objects.filter(sender_domain="other.test").update(processed_at=timezone.now() - timedelta(hours=2))
    assert services.receive_and_process(message("d@flood.test"), mailbox=box).state == S.PROCESSED
    # an hour later the limits count again from zero
    InboundMessage.objects.filter(opened_ticket=True).update(processed_at=timezone.now() - timedelta(hours=2))
    assert services.receive_and_process(message("c@flood.test"), mailbox=box).state == S.PROCESSED
    # an admin's Retry opens the quarantined one anyway
    assert services.retry(states[2].pk, by=admin_user).state == S.PROCESSED


def test_replies_do_not_count_against_the_limits(box: Mailbox, settings: Any, requester: User) -> None:
    settings.PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR = 1
    ticket = services.receive_and_process(message("alice@acme.test"), mailbox=box).ticket
    assert ticket is not None
    reply = services.receive_and_process(message("alice@acme.test", subject=f"Re: [{ticket.reference}]"), mailbox=box)
    assert reply.state == S.PROCESSED and reply.comment is not None


def test_raw_messages_are_blanked_after_the_retention_period(box: Mailbox, settings: Any) -> None:
    settings.PALIER_MAIL_RAW_RETENTION_DAYS = 30
    old = services.receive_and_process(message("old@acme.test"), mailbox=box)
    recent = services.receive_and_process(message("new@acme.test"), mailbox=box)
    stuck = services.receive_and_process(message("automation@palier.invalid"), mailbox=box)
    assert stuck.state == S.QUARANTINED
    long_ago = timezone.now() - timedelta(days=31)
    InboundMessage.objects.filter(pk__in=[old.pk, stuck.pk]).update(processed_at=long_ago)
    assert services.purge_raw_messages() == 1
    assert services.purge_raw_messages() == 0  # idempotent
    old.refresh_from_db()
    assert bytes(old.raw) == b"" and old.raw_purged_at is not None
    assert old.ticket is not None and old.ticket.description == "Hello" and old.subject == "Printer jammed"
    recent.refresh_from_db()
    stuck.refresh_from_db()
    assert bytes(recent.raw) and bytes(stuck.raw)  # recent, and quarantined (an admin may retry it)
    settings.PALIER_MAIL_RAW_RETENTION_DAYS = 0
    InboundMessage.objects.filter(pk=recent.pk).update(processed_at=long_ago)
    assert services.purge_raw_messages() == 0  # 0 keeps them forever


def test_the_retention_job_is_a_periodic_job() -> None:
    jobs = {name: task for name, _seconds, task in events.PERIODIC_JOBS}
    assert jobs["mail-raw-retention"] == "palier.mail.tasks.purge_raw_messages_task"
