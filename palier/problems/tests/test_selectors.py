"""The problem reads: badges in one query, the merged timeline, references, and its sentences."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from palier.people.models import User
from palier.problems import display, selectors, services
from palier.problems.models import Problem
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def _incident(requester: User, subject: str = "VPN drops") -> Ticket:
    return make_ticket(requester, kind="incident", subject=subject)


def test_badges_for_a_page_of_tickets_in_one_query(
    agent: User, requester: User, django_assert_num_queries: Any
) -> None:
    linked = [_incident(requester, f"VPN {n}") for n in range(4)]
    alone = _incident(requester, "Printer")
    problem = services.create_problem(
        by=agent, title="VPN gateway", workaround="Reconnect", incident_ids=[t.pk for t in linked]
    )
    with django_assert_num_queries(1):
        badges = selectors.problems_for_tickets([*(t.pk for t in linked), alone.pk])
    assert set(badges) == {t.pk for t in linked}
    badge = badges[linked[0].pk]
    assert badge.reference == problem.reference and badge.has_workaround and badge.status == "new"
    with django_assert_num_queries(0):
        assert selectors.problems_for_tickets([]) == {}


def test_linking_many_incidents_takes_a_fixed_number_of_statements(
    agent: User, requester: User, django_assert_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    few = [_incident(requester, f"A{n}") for n in range(2)]
    many = [_incident(requester, f"B{n}") for n in range(12)]
    first = services.create_problem(by=agent, title="First")
    second = services.create_problem(by=agent, title="Second")
    with CaptureQueriesContext(connection) as small:
        services.link_incidents(first, [t.pk for t in few], by=agent)
    with django_assert_num_queries(len(small)):
        services.link_incidents(second, [t.pk for t in many], by=agent)


def test_the_timeline_merges_events_and_comments_in_time_order(agent: User, manager: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway")
    services.comment_on_problem(problem, by=agent, body="Vendor called", internal=True)
    services.update_problem(problem, by=manager, root_cause="Firmware leak")
    services.comment_on_problem(problem, by=manager, body="Public note", internal=False)
    with translation.override("en"):
        lines = display.timeline_lines(selectors.timeline(problem))
    texts = [(line.actor, line.summary, line.body) for line in lines]
    assert texts[0][1] == "created the problem"
    assert ("Léa L1", "wrote an internal comment", "Vendor called") in texts
    assert texts.index(("Léa L1", "wrote an internal comment", "Vendor called")) < [t[1] for t in texts].index(
        "changed the problem"
    )
    assert texts[-1] == ("Nina Manager", "wrote a public comment", "Public note")
    changed = next(line for line in lines if line.summary == "changed the problem")
    assert changed.details == ["Root cause: — → Firmware leak"]


def test_a_status_change_reads_with_the_labels(agent: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway")
    services.transition_problem(problem, to=Problem.Status.INVESTIGATING, by=agent)
    with translation.override("en"):
        lines = display.timeline_lines(selectors.timeline(problem))
    assert lines[-1].summary == "changed the status: New → Investigating"


def test_ticket_references_name_only_what_i_may_see(agent_l2: User, agent: User, requester: User) -> None:
    mine = _incident(requester)
    ids, bad = selectors.tickets_by_references(agent, f"{mine.reference}, inc-{mine.number} INC-999999 nonsense")
    assert ids == [mine.pk] and sorted(bad) == ["INC-999999", "nonsense"]
    ids, bad = selectors.tickets_by_references(agent_l2, mine.reference)  # in triage: Marc does not see it
    assert ids == [] and bad == [mine.reference]


def test_problem_references(agent: User) -> None:
    problem = services.create_problem(by=agent, title="VPN gateway")
    assert selectors.get_problem_by_reference(agent, f" prb-{problem.number} ") == problem
    assert selectors.get_problem_by_reference(agent, str(problem.number)) == problem
    assert selectors.parse_reference("INC-3") is None and selectors.parse_reference("PRB-x") is None
