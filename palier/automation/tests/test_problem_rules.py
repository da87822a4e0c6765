"""Automation rules on a ticket's problem, major incident and changes, and the action that
links an incident to a problem."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError

from palier.automation.models import Rule, RuleRun
from palier.changes import services as change_services
from palier.people.models import User
from palier.problems import services as problem_services
from palier.problems.models import MajorIncident, ProblemIncident
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def _tags(ticket: Ticket) -> list[str]:
    return sorted(ticket.tags.values_list("name", flat=True))


def test_a_link_to_a_problem_with_a_workaround_tags_the_incident_once(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Known workaround",
        trigger="updated",
        conditions=[
            {"field": "problem", "op": "set"},
            {"field": "problem_workaround", "op": "set"},
            {"field": "problem_status", "op": "is", "value": "known_error"},
        ],
        actions=[{"type": "add_tags", "value": "workaround-known"}],
    )
    with_fix = problem_services.create_problem(
        by=agent, title="VPN drops", root_cause="Firmware", workaround="Reconnect"
    )
    with_fix = problem_services.transition_problem(with_fix, to="known_error", by=agent)
    without = problem_services.create_problem(by=agent, title="Printer stalls")
    first, second, third = (make_ticket(requester, subject=f"VPN {n}", kind="incident") for n in range(3))
    pump()
    problem_services.link_incidents(with_fix, [first.pk], by=agent)
    problem_services.link_incidents(without, [second.pk], by=agent)
    pump()
    problem_services.link_incidents(with_fix, [first.pk], by=agent)  # again: nothing new
    pump()
    assert _tags(first) == ["workaround-known"]
    assert _tags(second) == [] and _tags(third) == []
    assert RuleRun.objects.filter(outcome=RuleRun.Outcome.APPLIED).count() == 1


def test_rules_see_major_incidents_and_changes_and_link_to_a_problem(
    requester: User, agent: User, admin_user: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    problem = problem_services.create_problem(by=agent, title="VPN gateway drops")
    make_rule(
        "VPN to its problem",
        conditions=[{"field": "subject", "op": "contains", "value": "vpn"}],
        actions=[{"type": "link_problem", "value": problem.reference}],
    )
    make_rule(
        "Outage",
        trigger="updated",
        conditions=[{"field": "major_incident", "op": "set"}, {"field": "change", "op": "unset"}],
        actions=[{"type": "add_tags", "value": "outage"}],
    )
    make_rule(
        "After a change",
        trigger="updated",
        conditions=[{"field": "change", "op": "set"}],
        actions=[{"type": "add_tags", "value": "after-change"}],
    )
    vpn = make_ticket(requester, subject="VPN is down", kind="incident")
    request = make_ticket(requester, subject="VPN access for a new hire", kind="request")
    pump()
    assert ProblemIncident.objects.get(ticket=vpn).problem == problem
    assert not ProblemIncident.objects.filter(ticket=request).exists()  # requests are not linked

    major = make_ticket(requester, subject="Mail down", kind="incident")
    MajorIncident.objects.create(ticket=major, headline="Mail is down", declared_by=admin_user)
    ticket_services.update_ticket(major, by=agent, expected_version=None, changes={"subject": "Mail down for all"})
    change = change_services.create_change(by=agent, kind="normal", title="Mail server upgrade")
    caused = make_ticket(requester, subject="Slow mail", kind="incident")
    pump()
    change_services.link_ticket(change, caused, by=agent, relation="caused")
    pump()
    assert _tags(major) == ["outage"]
    assert _tags(caused) == ["after-change"]


def test_problem_conditions_and_action_are_validated(make_rule: Callable[..., Rule]) -> None:
    for conditions, actions, words in [
        ([{"field": "problem_status", "op": "is", "value": "fixed"}], [{"type": "close"}], "Choose a value"),
        ([], [{"type": "link_problem", "value": "CHG-1"}], "PRB-12"),
    ]:
        with pytest.raises(ValidationError, match=words):
            make_rule(conditions=conditions, actions=actions)
    assert not Rule.objects.exists()


def test_problem_facts_cost_one_query_per_family_whatever_the_batch(
    requester: User, agent: User, make_rule: Callable[..., Rule], django_assert_num_queries
) -> None:
    from django.utils import timezone

    from palier.automation.services.engine import Occurrence, evaluate
    from palier.automation.services.rules import compile_rule

    rule = compile_rule(
        make_rule(
            "All three",
            trigger="updated",
            conditions=[
                {"field": "problem_status", "op": "is", "value": "new"},
                {"field": "major_incident", "op": "unset"},
                {"field": "change", "op": "unset"},
            ],
            actions=[{"type": "add_tags", "value": "x"}],
        )
    )
    problem = problem_services.create_problem(by=agent, title="VPN drops")
    tickets = [make_ticket(requester, subject=f"VPN {n}", kind="incident") for n in range(6)]
    problem_services.link_incidents(problem, [t.pk for t in tickets[:4]], by=agent)
    found = [Occurrence(ticket=t, trigger="updated") for t in tickets]
    with django_assert_num_queries(3):
        matched = evaluate(found, [rule], now=timezone.now())
    assert [o.ticket.pk for o, _rule in matched] == [t.pk for t in tickets[:4]]
