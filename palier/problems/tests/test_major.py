"""Major incidents: who declares, the communication log and its emails (each subscriber once, in
their language), attaching incidents, the portal's "I am affected too", the end and the review."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, StaleVersion
from palier.notifications.models import OutgoingEmail
from palier.people.models import User
from palier.problems import services
from palier.problems.models import MajorIncident, MajorIncidentLink, MajorIncidentSubscriber, MajorIncidentUpdate
from palier.problems.services import major as major_services
from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _incident(requester: User, subject: str = "Mail is down") -> Ticket:
    return tickets.open_ticket(by=requester, requester=requester, subject=subject, description="Nothing arrives.")


def _declared(manager: User, requester: User) -> MajorIncident:
    return services.declare_major(_incident(requester), by=manager, headline="Email is down for everyone")


# --- declaring ---------------------------------------------------------------------------------------


def test_an_agent_without_the_role_may_not_declare(agent: User, requester: User) -> None:
    ticket = _incident(requester)
    with pytest.raises(PermissionDenied):
        services.declare_major(ticket, by=agent, headline="Email down")
    with pytest.raises(PermissionDenied):
        services.declare_major(ticket, by=requester, headline="Email down")
    assert not MajorIncident.objects.exists()


def test_bad_declarations_change_nothing(manager: User, requester: User) -> None:
    ticket = _incident(requester)
    with pytest.raises(ValidationError) as error:
        services.declare_major(ticket, by=manager, headline="   ")
    assert "headline" in error.value.message_dict
    request = tickets.open_ticket(by=requester, requester=requester, subject="New laptop", kind="request")
    with pytest.raises(ValidationError, match="not a request"):
        services.declare_major(request, by=manager, headline="Laptops")
    closed = _incident(requester, "Old one")
    tickets.transition_ticket(closed, to=Ticket.Status.CANCELLED, by=manager)
    with pytest.raises(IllegalTransition):
        services.declare_major(closed, by=manager, headline="Old")
    assert not MajorIncident.objects.exists()
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.MAJOR).exists()


def test_declaring_subscribes_the_requester_and_records_the_event_once(manager: User, requester: User) -> None:
    ticket = _incident(requester)
    major = services.declare_major(ticket, by=manager, headline="Email is down", status_note="We are on it.")
    assert major.state == MajorIncident.State.ACTIVE and major.published
    assert list(major.subscribers.values_list("user_id", flat=True)) == [requester.pk]
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.MAJOR)
    assert event.data["action"] == "declared" and event.data["reference"] == ticket.reference and event.is_internal
    assert "email is down" in major.search_text
    with pytest.raises(Conflict):
        services.declare_major(ticket, by=manager, headline="Again")
    assert MajorIncident.objects.count() == 1


def test_a_ticket_the_manager_may_not_see_is_refused(manager: User, outsider: User, l2: object) -> None:
    ticket = _incident(outsider)
    tickets.move_to_group(ticket, group=l2, by=None, auto_assign=False)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        services.declare_major(ticket, by=manager, headline="Email down")


# --- the communication log and its emails -----------------------------------------------------------------


def test_publishing_emails_each_subscriber_once_in_their_language(
    manager: User, requester: User, requester_b: User
) -> None:
    requester.language, requester_b.language = "en", "fr"
    requester.save(update_fields=["language"])
    requester_b.save(update_fields=["language"])
    major = _declared(manager, requester)
    services.subscribe(major, requester_b)
    updates = services.publish_update(major, by=manager, message="Restarting the mail relay.")
    assert [u.channel for u in updates] == ["portal", "email"]
    assert updates[1].recipients == 2
    major.refresh_from_db()
    assert major.status_note == "Restarting the mail relay." and "relay" in major.search_text
    mails = {m.address: m for m in OutgoingEmail.objects.all()}
    assert set(mails) == {"alice@acme.test", "bob@acme.test"}
    assert "Status:" in mails["alice@acme.test"].text and "Restarting the mail relay." in mails["alice@acme.test"].text
    assert "Statut" in mails["bob@acme.test"].text
    assert "Email is down for everyone" in mails["alice@acme.test"].subject
    # the same update handled again (a retry) sends nobody anything new
    major_services.send_update_emails({"update": updates[1].pk})
    assert OutgoingEmail.objects.count() == 2


def test_many_subscribers_go_through_the_outbox_exactly_once(
    manager: User, requester: User, requester_b: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from palier.core.models import OutboxItem

    monkeypatch.setattr(major_services, "INLINE_EMAILS", 0)
    monkeypatch.setattr(major_services, "EMAIL_CHUNK", 1)
    major = _declared(manager, requester)
    services.subscribe(major, requester_b)
    updates = services.publish_update(major, by=manager, message="Still down.", portal=False)
    assert not OutgoingEmail.objects.exists()
    item = OutboxItem.objects.get(kind="problems.major_update")
    major_services.send_update_emails(item.payload)
    major_services.send_update_emails(item.payload)
    assert OutgoingEmail.objects.count() == 2 == updates[0].recipients


def test_internal_notes_are_any_agents_and_publishing_is_the_managers(
    agent: User, manager: User, requester: User
) -> None:
    major = _declared(manager, requester)
    with pytest.raises(PermissionDenied):
        services.publish_update(major, by=agent, message="Public words")
    with pytest.raises(ValidationError):
        services.publish_update(major, by=agent, message="x", internal=True)  # portal and email still on
    updates = services.publish_update(
        major, by=agent, message="DB team paged", portal=False, email=False, internal=True
    )
    assert [u.channel for u in updates] == ["internal"]
    major.refresh_from_db()
    assert major.status_note == "" and not OutgoingEmail.objects.exists()
    with pytest.raises(ValueError):
        updates[0].save()  # the log is immutable


# --- attached incidents ------------------------------------------------------------------------------------


def test_attach_rules(
    agent: User, manager: User, requester: User, requester_b: User, outsider: User, l2: object
) -> None:
    major = _declared(manager, requester)
    same = _incident(requester_b, "No mail since 9")
    link = services.attach_incident(major, same, by=agent)
    assert link.ticket_id == same.pk
    assert MajorIncidentSubscriber.objects.filter(major=major, user=requester_b).exists()
    assert TicketEvent.objects.get(ticket=same, kind="major").data["action"] == "attached"
    assert services.attach_incident(major, same, by=agent).pk == link.pk  # again: nothing new
    with pytest.raises(ValidationError):
        services.attach_incident(major, major.ticket, by=agent)
    hidden = _incident(outsider, "Mail")
    tickets.move_to_group(hidden, group=l2, by=None, auto_assign=False)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        services.attach_incident(major, hidden, by=agent)
    with pytest.raises(PermissionDenied):
        services.attach_incident(major, same, by=requester)
    other = services.declare_major(_incident(requester, "Wi-Fi"), by=manager, headline="Wi-Fi")
    with pytest.raises(Conflict):
        services.attach_incident(other, same, by=agent)
    assert MajorIncidentLink.objects.count() == 1
    assert services.detach_incident(major, same, by=agent)
    assert TicketEvent.objects.filter(ticket=same, kind="major").count() == 2


def test_i_am_affected_too_subscribes_and_opens_no_ticket(manager: User, requester: User, outsider: User) -> None:
    major = _declared(manager, requester)
    before = Ticket.objects.count()
    row = services.report_affected(major, outsider)
    assert row.affected_at is not None
    assert services.report_affected(major, outsider).pk == row.pk
    assert Ticket.objects.count() == before
    assert services.unsubscribe(major, outsider)
    assert not MajorIncidentSubscriber.objects.filter(major=major, user=outsider).exists()


# --- the end and the review -------------------------------------------------------------------------------


def test_resolving_tells_everyone_and_resolves_the_attached_incidents_once(
    agent: User, manager: User, requester: User, requester_b: User
) -> None:
    major = _declared(manager, requester)
    same = _incident(requester_b, "No mail")
    services.attach_incident(major, same, by=agent)
    with pytest.raises(PermissionDenied):
        services.resolve_major(major, by=agent, message="Fixed")
    major = services.resolve_major(major, by=manager, message="Mail flows again.", resolve_attached=True)
    assert major.state == MajorIncident.State.RESOLVED and major.resolved_at is not None
    same.refresh_from_db()
    assert same.status == Ticket.Status.RESOLVED
    assert same.comments.filter(is_internal=False, body="Mail flows again.").count() == 1
    assert TicketEvent.objects.filter(ticket=same, kind="major", data__action="resolved").count() == 1
    assert OutgoingEmail.objects.filter(key__startswith="major-update:").count() == 2
    assert MajorIncidentUpdate.objects.filter(major=major, channel="email").get().recipients == 2
    with pytest.raises(IllegalTransition):
        services.resolve_major(major, by=manager, message="again")
    with pytest.raises(IllegalTransition):
        services.publish_update(major, by=manager, message="late")


def test_the_review_comes_after_the_end_and_checks_the_version(manager: User, requester: User) -> None:
    major = _declared(manager, requester)
    with pytest.raises(IllegalTransition):
        services.save_review(major, by=manager, version=major.version, review_summary="Relay crashed")
    major = services.resolve_major(major, by=manager, message="Back")
    with pytest.raises(StaleVersion):
        services.save_review(major, by=manager, version=major.version - 1, review_summary="Relay crashed")
    with pytest.raises(ValidationError):
        services.save_review(major, by=manager, version=major.version, nonsense="x")
    major = services.save_review(
        major, by=manager, version=major.version, review_summary="Relay crashed", review_lessons="Monitor the queue"
    )
    assert major.reviewed_by == manager and major.review_lessons == "Monitor the queue"


def test_a_french_subscriber_reads_french(manager: User, requester: User) -> None:
    requester.language = "fr"
    requester.save(update_fields=["language"])
    major = _declared(manager, requester)
    services.publish_update(major, by=manager, message="Relais redémarré.", portal=False)
    mail = OutgoingEmail.objects.get()
    assert "Statut" in mail.text and "Statut" in mail.html
