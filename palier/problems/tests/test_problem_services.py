"""The problem record's core rules: numbering, lifecycle, linking incidents all or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.people.models import User
from palier.problems import services
from palier.problems.models import Problem, ProblemEvent, ProblemIncident
from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _incident(requester: User, subject: str = "VPN drops") -> Ticket:
    return tickets.open_ticket(by=requester, requester=requester, subject=subject, description="It drops every hour.")


def test_numbers_follow_and_priority_comes_from_the_matrix(agent: User) -> None:
    first = services.create_problem(by=agent, title="VPN gateway drops", impact="high", urgency="high")
    second = services.create_problem(by=agent, title="Printer queue stalls", impact="low", urgency="low")
    assert second.number == first.number + 1
    assert first.reference == f"PRB-{first.number}"
    assert first.priority == 1 and second.priority == 4
    assert ProblemEvent.objects.filter(problem=first, kind="created").count() == 1


def test_requesters_may_not_open_problems(requester: User) -> None:
    with pytest.raises(PermissionDenied):
        services.create_problem(by=requester, title="x")


def test_known_error_needs_root_cause_and_workaround(agent: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    with pytest.raises(ValidationError) as error:
        services.transition_problem(problem, to=Problem.Status.KNOWN_ERROR, by=agent)
    assert set(error.value.message_dict) == {"root_cause", "workaround"}
    problem = services.update_problem(problem, by=agent, root_cause="Firmware leak", workaround="Reconnect")
    problem = services.transition_problem(problem, to=Problem.Status.KNOWN_ERROR, by=agent)
    assert problem.status == "known_error" and problem.known_error_at is not None


def test_only_problem_managers_resolve_and_closed_is_final(agent: User, manager: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    with pytest.raises(PermissionDenied):
        services.transition_problem(problem, to=Problem.Status.RESOLVED, by=agent)
    problem = services.transition_problem(problem, to=Problem.Status.RESOLVED, by=manager)
    problem = services.transition_problem(problem, to=Problem.Status.CLOSED, by=manager)
    with pytest.raises(IllegalTransition):
        services.transition_problem(problem, to=Problem.Status.INVESTIGATING, by=manager)


def test_linking_incidents_is_all_or_nothing_and_idempotent(agent: User, requester: User, outsider: User) -> None:
    mine = [_incident(requester, f"VPN {i}") for i in range(3)]
    problem = services.create_problem(by=agent, title="VPN gateway drops")
    outcome = services.link_incidents(problem, [t.pk for t in mine], by=agent)
    assert len(outcome.linked) == 3
    again = services.link_incidents(problem, [t.pk for t in mine], by=agent)
    assert again.linked == [] and again.already == 3
    assert TicketEvent.objects.filter(kind="problem", ticket__in=mine).count() == 3

    other = services.create_problem(by=agent, title="Another cause")
    fresh = _incident(requester, "VPN 4")
    with pytest.raises(ValidationError, match="Already linked to another problem"):
        services.link_incidents(other, [mine[0].pk, fresh.pk], by=agent)
    assert not ProblemIncident.objects.filter(ticket=fresh).exists()  # nothing changed


def test_a_ticket_the_agent_may_not_see_refuses_the_batch(
    agent: User, agent_l2: User, requester: User, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PALIER_AGENTS_SEE_ALL = False
    from palier.people.models import SupportGroup
    from palier.tickets.services import move_to_group

    hidden = _incident(requester, "Hidden")
    l2 = SupportGroup.objects.get(name="Network L2")
    move_to_group(hidden, group=l2, by=None, auto_assign=False)
    seen = _incident(requester, "Seen")
    problem = services.create_problem(by=agent, title="Cause")
    with pytest.raises(ValidationError, match="may not see"):
        services.link_incidents(problem, [seen.pk, hidden.pk], by=agent)
    assert not ProblemIncident.objects.exists()


def test_watchers_are_told_of_status_changes_and_comments_but_not_of_their_own(
    agent: User, agent_l2: User, manager: User, client: Client
) -> None:
    from palier.notifications.models import Notification
    from palier.problems.services import set_watching

    problem = services.create_problem(by=agent, title="VPN gateway drops")
    set_watching(problem, by=agent_l2, watching=True)
    set_watching(problem, by=manager, watching=True)
    services.transition_problem(problem, to=Problem.Status.INVESTIGATING, by=manager)
    services.comment_on_problem(problem, by=agent, body="Vendor case opened", internal=True)
    told = Notification.objects.filter(kind="problem")
    assert sorted((n.recipient.email, n.data["what"]) for n in told) == [
        ("marc@desk.test", "comment"),
        ("marc@desk.test", "status"),
        ("nina@desk.test", "comment"),
    ]  # the manager who moved it is not told of their own move
    client.force_login(agent_l2)
    page = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/agent/problems/{problem.pk}/" in page and problem.reference in page
