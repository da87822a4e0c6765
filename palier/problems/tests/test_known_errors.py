"""The known-error base: search in both languages, suggestions on incidents, applying a workaround."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from palier.assets.services import tickets as asset_tickets
from palier.assets.tests.builders import make_asset
from palier.lib.errors import Conflict, NotFound, PermissionDenied
from palier.people.models import User
from palier.problems import search, services
from palier.problems.models import Problem, ProblemEvent, ProblemIncident
from palier.problems.services import known_errors
from palier.tickets import services as tickets
from palier.tickets.models import Category, Comment, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def known_error(by: User, title: str, *, workaround: str = "Restart the agent.", **values: Any) -> Problem:
    problem = services.create_problem(by=by, title=title, root_cause=values.pop("root_cause", "A leak."), **values)
    problem = services.update_problem(problem, by=by, workaround=workaround)
    return services.transition_problem(problem, to=Problem.Status.KNOWN_ERROR, by=by)


def incident(requester: User, subject: str, description: str = "", **values: Any) -> Ticket:
    return tickets.open_ticket(
        by=requester, requester=requester, subject=subject, description=description or subject, **values
    )


def category(name: str) -> Category:
    return Category.objects.create(name_en=name, name_fr=name, slug=f"t-{name.lower()}")


# --- search --------------------------------------------------------------------------------------


def test_search_ignores_accents_and_crosses_languages(agent: User) -> None:
    vpn = known_error(agent, "Passerelle réseau instable", workaround="Reconnecter le client réseau.")
    proxy = known_error(agent, "Expired certificate on the proxy", workaround="Purge the spooler.")
    assert [h.problem for h in search.search_problems(agent, "reseau").hits] == [vpn]
    assert [h.problem for h in search.search_problems(agent, "RÉSEAU INSTABLE").hits] == [vpn]
    # a French query ("certificats") finds the English known error ("certificate")
    assert [h.problem for h in search.search_problems(agent, "certificats").hits] == [proxy]
    hit = search.search_problems(agent, "spooler").hits[0]
    assert "<mark>spooler</mark>" in hit.workaround_html


def test_search_finds_known_errors_only_and_follows_edits(agent: User) -> None:
    draft = services.create_problem(by=agent, title="Badge readers reject cards")
    assert search.search_problems(agent, "badge").hits == []
    assert [h.problem for h in search.search_problems(agent, "badge", any_status=True).hits] == [draft]
    services.update_problem(draft, by=agent, title="Door controllers reject cards")
    assert search.search_problems(agent, "badge", any_status=True).hits == []
    assert len(search.search_problems(agent, "controllers", any_status=True).hits) == 1


def test_requesters_find_nothing(agent: User, requester: User) -> None:
    known_error(agent, "VPN gateway drops")
    assert search.search_problems(requester, "vpn").hits == []


# --- suggestions -----------------------------------------------------------------------------------


def test_suggested_by_category_asset_and_words(agent: User, requester: User) -> None:
    network = category("Network")
    gateway = make_asset("GW-1", by=agent, type="server")
    by_category = known_error(agent, "Slow wifi on floor 3", category=network)
    by_asset = known_error(agent, "Gateway memory leak", asset_ids=[gateway.pk])
    by_words = known_error(agent, "Outlook crashes when opening calendar", workaround="Start in safe mode.")
    known_error(agent, "Unrelated scanner jam")

    ticket = incident(requester, "Cannot connect", category=network)
    assert [s.problem for s in search.suggestions_for(agent, ticket)] == [by_category]

    ticket = incident(requester, "Cannot connect")
    asset_tickets.link_ticket(agent, ticket, gateway)
    suggestions = search.suggestions_for(agent, ticket)
    assert [s.problem for s in suggestions] == [by_asset] and suggestions[0].same_asset

    ticket = incident(requester, "Outlook", "My outlook crashes every morning when I open it")
    suggestions = search.suggestions_for(agent, ticket)
    assert [s.problem for s in suggestions] == [by_words] and suggestions[0].same_words


def test_one_common_word_does_not_suggest(agent: User, requester: User) -> None:
    known_error(agent, "Outlook crashes on start")
    ticket = incident(requester, "Teams crashes")
    assert search.suggestions_for(agent, ticket) == []


def test_best_first_and_at_most_three(agent: User, requester: User) -> None:
    network = category("Network")
    gateway = make_asset("GW-2", by=agent, type="server")
    weak = [known_error(agent, f"Network issue {i}", category=network) for i in range(3)]
    strong = known_error(agent, "VPN gateway drops", category=network, asset_ids=[gateway.pk])
    ticket = incident(requester, "Something odd", category=network)
    asset_tickets.link_ticket(agent, ticket, gateway)
    suggested = [s.problem for s in search.suggestions_for(agent, ticket)]
    assert len(suggested) == 3 and suggested[0] == strong
    assert set(suggested[1:]) <= set(weak)


def test_not_suggested_once_linked_resolved_or_to_requesters(agent: User, requester: User) -> None:
    network = category("Network")
    problem = known_error(agent, "Slow wifi on floor 3", category=network)
    ticket = incident(requester, "Wifi slow", category=network)
    assert search.suggestions_for(requester, ticket) == []
    other = services.create_problem(by=agent, title="Another cause")
    services.link_incidents(other, [ticket.pk], by=agent)
    assert search.suggestions_for(agent, ticket) == []
    done = incident(requester, "Wifi slow again", category=network)
    tickets.transition_ticket(done, to="resolved", by=agent)
    done.refresh_from_db()
    assert search.suggestions_for(agent, done) == []
    fresh = incident(requester, "Wifi slow once more", category=network)
    assert [s.problem for s in search.suggestions_for(agent, fresh)] == [problem]


def test_suggestions_cost_at_most_two_queries(agent: User, requester: User, django_assert_max_num_queries: Any) -> None:
    network = category("Network")
    gateway = make_asset("GW-3", by=agent, type="server")
    for i in range(5):
        known_error(agent, f"Gateway drops {i}", category=network, asset_ids=[gateway.pk])
    ticket = incident(
        requester, "Gateway drops connections", "The gateway drops every VPN connection", category=network
    )
    asset_tickets.link_ticket(agent, ticket, gateway)
    ticket = Ticket.objects.get(pk=ticket.pk)
    with django_assert_max_num_queries(2):
        suggestions = search.suggestions_for(agent, ticket)
        assert len(suggestions) == 3


# --- applying a workaround -------------------------------------------------------------------------


def test_apply_posts_the_reply_links_and_records_once(agent: User, requester: User) -> None:
    problem = known_error(agent, "VPN gateway drops", workaround="Reconnect with the backup profile.")
    ticket = incident(requester, "VPN drops")
    comment = known_errors.apply_workaround(ticket, problem, by=agent)
    assert comment.body == "Reconnect with the backup profile." and not comment.is_internal
    link = ProblemIncident.objects.get(ticket=ticket)
    assert link.problem == problem and link.workaround_applied_at is not None
    assert ProblemEvent.objects.filter(problem=problem, kind="workaround_applied").count() == 1
    kinds = list(TicketEvent.objects.filter(ticket=ticket, kind="problem").values_list("data__action", flat=True))
    assert kinds == ["linked", "workaround"]

    with pytest.raises(Conflict, match="already applied"):
        known_errors.apply_workaround(ticket, problem, by=agent)
    assert Comment.objects.filter(ticket=ticket, is_internal=False).count() == 1
    assert ProblemEvent.objects.filter(problem=problem, kind="workaround_applied").count() == 1


def test_apply_refused_for_requesters_other_problems_and_unseen_tickets(
    agent: User, requester: User, outsider: User
) -> None:
    problem = known_error(agent, "VPN gateway drops")
    ticket = incident(requester, "VPN drops")
    with pytest.raises(PermissionDenied):
        known_errors.apply_workaround(ticket, problem, by=requester)
    other = services.create_problem(by=agent, title="Another cause")
    services.link_incidents(other, [ticket.pk], by=agent)
    with pytest.raises(Conflict, match="already linked"):
        known_errors.apply_workaround(ticket, problem, by=agent)
    no_workaround = services.create_problem(by=agent, title="Not understood yet")
    fresh = incident(requester, "VPN drops again")
    with pytest.raises(ValidationError):
        known_errors.apply_workaround(fresh, no_workaround, by=agent)
    assert not Comment.objects.filter(ticket__in=[ticket, fresh]).exists()
    assert not ProblemIncident.objects.filter(ticket=fresh).exists()


def test_apply_refused_on_a_ticket_the_agent_may_not_see(agent: User, outsider: User, monkeypatch: Any) -> None:
    problem = known_error(agent, "VPN gateway drops")
    ticket = incident(outsider, "VPN drops")
    monkeypatch.setattr("palier.tickets.permissions.can_see", lambda user, t: False)
    with pytest.raises(NotFound):
        known_errors.apply_workaround(ticket, problem, by=agent)
    assert not ProblemIncident.objects.filter(ticket=ticket).exists()
