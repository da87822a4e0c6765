"""The dry run evaluates the same conditions as the engine: comment conditions read each ticket's
latest reply of the trigger's kind, score conditions its latest survey answer, tickets without one
are skipped and counted, and the page costs the same queries whatever the number of tickets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.automation import selectors
from palier.automation.models import Rule, RuleRun
from palier.people.models import User
from palier.tickets import history
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
NOTE = [{"type": "note", "text": "Vu par {rule}"}]


def _page(client: Client, rule: Rule) -> str:
    response = client.get(reverse("automation:rule-dry-run", args=[rule.pk]), **EN)  # type: ignore[arg-type]
    assert response.status_code == 200
    return response.content.decode()


def _matched(rule: Rule) -> set[int]:
    result = selectors.dry_run(rule, page=1)
    assert result.count <= selectors.PAGE
    return {pk for pk, _comment, _score in result.page.object_list}


def _resolve(*tickets: Ticket, days_ago: int = 1) -> None:
    when = timezone.now() - timedelta(days=days_ago)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(status="resolved", resolved_at=when)


def _answer(ticket: Ticket, requester: User, *scores: int) -> None:
    for score in scores:  # each answer or change appends a survey event, as surveys.answer_survey does
        history.record(ticket, "survey", by=requester, internal=True, score=score, comment="")


def test_comment_rule_reads_the_latest_requester_reply_and_skips_tickets_without_one(
    client: Client, admin_user: User, requester: User, agent: User, make_rule: Callable[..., Rule]
) -> None:
    rule = make_rule(
        "Urgent", trigger="requester_comment",
        conditions=[{"field": "comment", "op": "contains", "value": "urgent"}], actions=NOTE,
    )  # fmt: skip
    said_it = make_ticket(requester, subject="Écran")
    ticket_services.comment_on_ticket(said_it, by=requester, body="C'est très URGÉNT, merci")
    ticket_services.comment_on_ticket(said_it, by=agent, body="Noté", internal=True)  # notes do not count
    took_it_back = make_ticket(requester, subject="Clavier")
    ticket_services.comment_on_ticket(took_it_back, by=requester, body="Urgent !")
    ticket_services.comment_on_ticket(took_it_back, by=requester, body="Finalement ça peut attendre")
    agent_only = make_ticket(requester, subject="Souris")
    ticket_services.comment_on_ticket(agent_only, by=agent, body="Est-ce urgent ?")
    make_ticket(requester, subject="Sans réponse")
    client.force_login(admin_user)
    body = _page(client, rule)
    assert "1 open ticket matches the conditions now." in body
    assert "Skipped: 2 tickets with no reply from their requester." in body
    assert said_it.reference in body and "C&#x27;est très URGÉNT, merci" in body
    for other in (took_it_back, agent_only):
        assert other.reference not in body


def test_agent_reply_rule_reads_the_latest_agent_reply(
    client: Client, admin_user: User, requester: User, agent: User, make_rule: Callable[..., Rule]
) -> None:
    rule = make_rule(
        "Asked for a log", trigger="agent_comment",
        conditions=[{"field": "comment", "op": "contains", "value": "journal"}], actions=NOTE,
    )  # fmt: skip
    asked = make_ticket(requester)
    ticket_services.comment_on_ticket(asked, by=agent, body="Pouvez-vous joindre le JOURNAL ?")
    requester_said_it = make_ticket(requester)
    ticket_services.comment_on_ticket(requester_said_it, by=requester, body="Voici le journal")
    client.force_login(admin_user)
    body = _page(client, rule)
    assert "1 open ticket matches the conditions now." in body
    assert "Skipped: 1 ticket with no reply from an agent." in body
    assert asked.reference in body and requester_said_it.reference not in body


def test_score_rule_reads_the_latest_survey_answer(
    client: Client, admin_user: User, requester: User, make_rule: Callable[..., Rule]
) -> None:
    rule = make_rule(
        "Unhappy", trigger="survey", conditions=[{"field": "survey_score", "op": "lte", "value": 2}], actions=NOTE
    )
    unhappy, happy, changed_up, changed_down, unanswered, long_ago = (
        make_ticket(requester, subject=f"Ticket {n}") for n in range(6)
    )
    _resolve(unhappy, happy, changed_up, changed_down, unanswered)
    _resolve(long_ago, days_ago=60)
    _answer(unhappy, requester, 1)
    _answer(happy, requester, 5)
    _answer(changed_up, requester, 1, 4)
    _answer(changed_down, requester, 5, 2)
    _answer(long_ago, requester, 1)
    client.force_login(admin_user)
    body = _page(client, rule)
    assert "2 tickets (open, or resolved in the last 30 days) match the conditions now." in body
    assert "Skipped: 1 ticket with no survey answer." in body
    assert unhappy.reference in body and "score 1/5" in body
    assert changed_down.reference in body and "score 2/5" in body
    for other in (happy, changed_up, unanswered, long_ago):
        assert other.reference not in body


def test_a_trigger_without_a_comment_sees_an_empty_comment_as_the_engine_does(
    requester: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    lacks = make_rule(
        "No word", conditions=[{"field": "comment", "op": "not_contains", "value": "panne"}], actions=NOTE
    )
    has = make_rule("Word", conditions=[{"field": "comment", "op": "contains", "value": "panne"}], actions=NOTE)
    ticket = make_ticket(requester)
    ticket_services.comment_on_ticket(ticket, by=requester, body="Toujours en panne")
    pump()
    assert _matched(lacks) == {ticket.pk} == set(RuleRun.objects.filter(rule=lacks).values_list("ticket_id", flat=True))
    assert _matched(has) == set() == set(RuleRun.objects.filter(rule=has).values_list("ticket_id", flat=True))


def _latest_runs(rule: Rule, trigger_events: Any) -> set[int]:
    """The tickets on which the engine ran ``rule`` for the ticket's latest event of its trigger."""
    latest: dict[int, int] = {}
    for ticket_id, event_id in trigger_events.order_by("created_at", "id").values_list("ticket_id", "pk"):
        latest[ticket_id] = event_id
    runs = RuleRun.objects.filter(rule=rule, event_id__in=latest.values()).values_list("ticket_id", flat=True)
    return set(runs)


def test_dry_run_and_engine_agree_on_a_mixed_set(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    printer = make_rule(
        "Printer reply", trigger="requester_comment", actions=NOTE,
        conditions={"all": [{"field": "text", "op": "contains", "value": "imprimante"}],
                    "any": [{"field": "comment", "op": "contains", "value": "bourrage"},
                            {"field": "comment", "op": "contains", "value": "toner"}]},
    )  # fmt: skip
    polite = make_rule(
        "Agent without thanks", trigger="agent_comment", actions=NOTE,
        conditions=[{"field": "comment", "op": "not_contains", "value": "merci"}],
    )  # fmt: skip
    glad = make_rule(
        "Glad", trigger="survey", actions=NOTE, conditions=[{"field": "survey_score", "op": "gte", "value": 4}]
    )
    replies = [
        ("Imprimante", [(requester, "Encore un BOURRAGE")]),
        ("Imprimante", [(requester, "Toner vide"), (agent, "Merci, je passe")]),
        ("Imprimante", [(requester, "Toner vide"), (requester, "Réglé tout seul")]),
        ("Écran", [(requester, "Bourrage ?"), (agent, "Je regarde")]),
        ("Écran", [(agent, "Redémarrez")]),
        ("Écran", []),
    ]
    tickets = []
    for subject, comments in replies:
        ticket = make_ticket(requester, subject=subject, description="Voir le sujet")
        for author, body in comments:
            ticket_services.comment_on_ticket(ticket, by=author, body=body)
            pump()
        tickets.append(ticket)
    answered = [make_ticket(requester, subject=f"Sondage {n}") for n in range(4)]
    _resolve(*answered)
    for ticket, scores in zip(answered, [(5,), (2,), (2, 4), (4, 1)], strict=True):
        for score in scores:
            _answer(ticket, requester, score)
            pump()
    events = TicketEvent.objects.filter(ticket__in=tickets + answered)
    from_requester = events.filter(kind="commented", actor=requester)
    from_agent = events.filter(kind="commented", actor=agent)
    assert _matched(printer) == _latest_runs(printer, from_requester) == {tickets[0].pk, tickets[1].pk}
    assert _matched(polite) == _latest_runs(polite, from_agent) == {tickets[3].pk, tickets[4].pk}
    expected_glad = {answered[0].pk, answered[2].pk}
    assert _matched(glad) == _latest_runs(glad, events.filter(kind="survey")) == expected_glad


def test_the_page_costs_the_same_queries_whatever_the_number_of_tickets(
    client: Client, admin_user: User, requester: User, agent: User, make_rule: Callable[..., Rule],
    django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    replies = make_rule(
        "Urgent", trigger="requester_comment",
        conditions=[{"field": "comment", "op": "contains", "value": "urgent"}], actions=NOTE,
    )  # fmt: skip
    scores = make_rule(
        "Unhappy", trigger="survey", conditions=[{"field": "survey_score", "op": "lte", "value": 2}], actions=NOTE
    )
    client.force_login(admin_user)

    def grow(n: int) -> None:
        for _ in range(n):
            ticket = make_ticket(requester)
            ticket_services.comment_on_ticket(ticket, by=requester, body="Urgent")
            ticket_services.comment_on_ticket(ticket, by=agent, body="Je regarde")
            done = make_ticket(requester)
            _resolve(done)
            _answer(done, requester, 1)
        make_ticket(requester)

    for n, shown in ((2, 2), (30, 25)):  # 2 then 32 matching tickets of each kind
        grow(n)
        for rule in (replies, scores):
            with django_assert_max_num_queries(10):  # 8, and the administrators' demo-accounts and backup checks
                body = _page(client, rule)
            assert body.count('href="/agent/tickets/') == shown


def test_chunks_count_every_match_and_every_skipped_ticket(
    requester: User, make_rule: Callable[..., Rule], monkeypatch: Any
) -> None:
    rule = make_rule(
        "Urgent", trigger="requester_comment",
        conditions=[{"field": "comment", "op": "contains", "value": "urgent"}], actions=NOTE,
    )  # fmt: skip
    for n in range(7):
        ticket = make_ticket(requester)
        if n % 3:
            ticket_services.comment_on_ticket(ticket, by=requester, body="urgent" if n % 2 else "rien")
    monkeypatch.setattr(selectors, "DRY_RUN_CHUNK", 2)
    result = selectors.dry_run(rule, page=1)
    assert (result.count, result.skipped) == (2, 3)  # replies 1, 2, 4, 5: "urgent" on 1 and 5
