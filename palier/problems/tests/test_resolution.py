"""Resolving a problem: the open incidents are told once and resolved, through the outbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.core import outbox
from palier.core.models import OutboxItem
from palier.lib.errors import PermissionDenied
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import User
from palier.problems import services
from palier.problems.models import Problem, ProblemIncident
from palier.tickets import services as tickets
from palier.tickets import stream
from palier.tickets.models import Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MESSAGE = "The VPN gateway firmware was replaced; reconnect and it holds."


def _incident(requester: User, subject: str) -> Ticket:
    return tickets.open_ticket(by=requester, requester=requester, subject=subject, description="It drops.")


def _run_outbox() -> None:
    for pk in OutboxItem.objects.filter(kind="problems.incident_resolved").values_list("pk", flat=True):
        outbox.run(pk)


@pytest.fixture
def setup(agent: User, requester: User, requester_b: User) -> tuple[Problem, list[Ticket]]:
    incidents = [_incident(requester, "VPN drops"), _incident(requester_b, "VPN again")]
    problem = services.create_problem(by=agent, title="VPN gateway", incident_ids=[t.pk for t in incidents])
    stream.pump_all()  # the creation acknowledgements
    return problem, incidents


def test_an_agent_may_not_resolve_and_nothing_changes(agent: User, setup: tuple[Problem, list[Ticket]]) -> None:
    problem, _incidents = setup
    with pytest.raises(PermissionDenied):
        services.resolve_problem(problem, by=agent, message=MESSAGE)
    problem.refresh_from_db()
    assert problem.status == Problem.Status.NEW
    assert not OutboxItem.objects.filter(kind="problems.incident_resolved").exists()


def test_notifying_needs_a_message(manager: User, setup: tuple[Problem, list[Ticket]]) -> None:
    problem, _incidents = setup
    with pytest.raises(ValidationError):
        services.resolve_problem(problem, by=manager, message="  ")
    problem.refresh_from_db()
    assert problem.status == Problem.Status.NEW


def test_each_requester_is_told_exactly_once(
    manager: User, requester: User, requester_b: User, setup: tuple[Problem, list[Ticket]]
) -> None:
    problem, incidents = setup
    assert services.resolve_problem(problem, by=manager, message=MESSAGE) == 2
    problem.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED
    _run_outbox()
    # a retried item (its runner died) and a second resolution add nothing
    for item in OutboxItem.objects.filter(kind="problems.incident_resolved"):
        services.incident_resolved(item.payload)
    assert services.resolve_problem(problem, by=manager, message=MESSAGE) == 0
    _run_outbox()
    stream.pump_all()
    stream.pump_all()
    for ticket in incidents:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.RESOLVED
        assert Comment.objects.filter(ticket=ticket, body=MESSAGE, is_internal=False).count() == 1
        events = TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.PROBLEM, data__action="resolved")
        assert events.count() == 1
    assert ProblemIncident.objects.filter(problem=problem, notified_at__isnull=False).count() == 2
    for address in (requester.email, requester_b.email):
        told = OutgoingEmail.objects.filter(address=address).exclude(key__endswith=":created")
        assert told.filter(key__endswith=":reply").count() == 1  # the message
        assert told.filter(key__endswith=":status").count() == 1  # "resolved"
        assert told.filter(key__startswith="survey:").count() <= 1  # the satisfaction survey, if any
        assert MESSAGE in told.get(key__endswith=":reply").text


def test_the_requester_reads_it_in_their_language(manager: User, org: object, agent: User) -> None:
    french = people.create_user(email="zoe@acme.test", full_name="Zoé", language="fr", organisation=org)  # type: ignore[arg-type]
    incident = _incident(french, "VPN coupe")
    problem = services.create_problem(by=agent, title="VPN gateway", incident_ids=[incident.pk])
    services.resolve_problem(problem, by=manager, message=MESSAGE)
    _run_outbox()
    stream.pump_all()
    status_mail = OutgoingEmail.objects.get(address=french.email, key__endswith=":status")
    assert "Résolu" in status_mail.text or "résolu" in status_mail.text


def test_resolving_without_closing_the_incidents_only_replies(
    manager: User, setup: tuple[Problem, list[Ticket]]
) -> None:
    problem, incidents = setup
    services.resolve_problem(problem, by=manager, message=MESSAGE, resolve_incidents=False)
    _run_outbox()
    for ticket in incidents:
        ticket.refresh_from_db()
        assert ticket.status != Ticket.Status.RESOLVED
        assert Comment.objects.filter(ticket=ticket, body=MESSAGE).count() == 1


def test_closed_incidents_are_left_alone(manager: User, setup: tuple[Problem, list[Ticket]]) -> None:
    problem, incidents = setup
    tickets.transition_ticket(incidents[0], to=Ticket.Status.CANCELLED, by=manager)
    assert services.resolve_problem(problem, by=manager, message=MESSAGE) == 1
    _run_outbox()
    assert not Comment.objects.filter(ticket=incidents[0], body=MESSAGE).exists()
