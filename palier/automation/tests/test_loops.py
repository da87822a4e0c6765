"""Loop protection: a rule ignores its own changes, chains stop at a depth, a ticket takes a bounded
number of rule runs a minute; and the consumer's queries do not grow with rules and events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from palier.automation.models import Rule, RuleRun
from palier.automation.services import engine
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket


def test_a_rule_never_reacts_to_its_own_changes(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule("Bump", trigger="updated", actions=[{"type": "set_priority", "value": 1}])
    ticket = make_ticket(requester)
    ticket_services.update_ticket(ticket, by=agent, expected_version=None, changes={"subject": "Autre sujet"})
    pump()
    ticket.refresh_from_db()
    assert ticket.priority == 1
    runs = list(RuleRun.objects.order_by("pk").values_list("outcome", "detail"))
    assert runs[0][0] == "applied"
    assert runs[1] == ("skipped", "the event came from this rule's own run")
    assert len(runs) == 2


def test_a_chain_between_two_rules_stops_at_the_depth_limit(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    # A turns "ping" into "pong" and B turns it back: without a limit this never ends
    make_rule(
        "Ping",
        trigger="updated",
        conditions=[{"field": "tags", "op": "has", "value": "ping"}],
        actions=[{"type": "remove_tags", "value": "ping"}, {"type": "add_tags", "value": "pong"}],
    )
    make_rule(
        "Pong",
        trigger="updated",
        conditions=[{"field": "tags", "op": "has", "value": "pong"}],
        actions=[{"type": "remove_tags", "value": "pong"}, {"type": "add_tags", "value": "ping"}],
    )
    ticket = make_ticket(requester, tags=["start"])
    ticket_services.update_ticket(ticket, by=agent, expected_version=None, changes={"tags": ["ping"]})
    pump()
    applied = RuleRun.objects.filter(outcome="applied").order_by("pk")
    assert [run.depth for run in applied] == [1, 2, 3, 4, 5]
    last = RuleRun.objects.order_by("pk").last()
    assert last is not None and last.outcome == "skipped" and "deeper than 5" in last.detail


def test_at_most_ten_rule_runs_per_ticket_a_minute(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    make_rule(
        "Noisy",
        trigger="agent_comment",
        actions=[{"type": "add_tags", "value": "seen"}, {"type": "remove_tags", "value": "seen"}],
    )
    make_rule("Tag", trigger="agent_comment", actions=[{"type": "note", "text": "vu"}])
    ticket = make_ticket(requester)
    for n in range(7):
        ticket_services.comment_on_ticket(ticket, by=agent, body=f"Réponse {n}")
    pump()
    outcomes = list(RuleRun.objects.filter(ticket=ticket).values_list("outcome", flat=True))
    assert outcomes.count("applied") == 10
    assert outcomes.count("skipped") == 4
    assert "in a minute" in RuleRun.objects.filter(outcome="skipped").first().detail  # type: ignore[union-attr]


def _batch(count: int) -> list[TicketEvent]:
    return list(TicketEvent.objects.select_related("ticket", "actor").order_by("pk")[:count])


def test_consumer_queries_do_not_grow_with_rules_and_events(
    requester: User,
    agent: User,
    make_rule: Callable[..., Rule],
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    category = Category.objects.order_by("pk").first()
    assert category is not None

    def rules(count: int) -> None:
        for n in range(count):
            make_rule(
                f"Rule {n}",
                trigger=("created", "updated", "agent_comment", "requester_comment")[n % 4],
                conditions=[
                    {"field": "subject", "op": "contains", "value": f"mot{n}"},
                    {"field": "tags", "op": "has", "value": f"tag{n}"},
                    {"field": "category", "op": "under", "value": category.pk},
                    {"field": "comment", "op": "contains", "value": "jamais"},
                ],
                actions=[{"type": "note", "text": "x"}],
            )

    def events(count: int) -> None:
        for n in range(count):
            ticket = make_ticket(requester, subject=f"Sujet {n}")
            ticket_services.comment_on_ticket(ticket, by=agent, body="Bonjour")
            ticket_services.comment_on_ticket(ticket, by=requester, body="Merci")

    rules(4)
    events(2)
    small = _batch(10_000)
    with django_assert_max_num_queries(6) as few:
        engine.handle_events(small)
    rules(46)
    events(38)
    large = _batch(10_000)
    assert len(large) >= 100
    with django_assert_num_queries(len(few.captured_queries)):
        engine.handle_events(large)
    assert not RuleRun.objects.exists()


def test_consumer_without_rules_costs_one_query(requester: User, django_assert_num_queries: Any) -> None:
    make_ticket(requester)
    batch = _batch(100)
    engine.active_rules()  # the per-process cache is warm
    with django_assert_num_queries(1):
        engine.handle_events(batch)
    assert Ticket.objects.count() == 1
