from __future__ import annotations

from palier.tickets import selectors, services
from palier.tickets.selectors import TicketFilters
from palier.tickets.tests.builders import make_ticket


def _found(user, q):
    return {t.subject for t in selectors.ticket_page(user, filters=TicketFilters(q=q), limit=100).items}


def test_search_ignores_accents_and_case_and_matches_word_starts(requester, agent):
    make_ticket(requester, subject="Panne du réseau Wi-Fi", description="Plus de connexion.")
    make_ticket(requester, subject="Printer jam", description="Paper stuck")
    assert _found(agent, "RESEAU") == {"Panne du réseau Wi-Fi"}
    assert _found(agent, "connex") == {"Panne du réseau Wi-Fi"}
    assert _found(agent, "paper printer") == {"Printer jam"}
    assert _found(agent, "réseau printer") == set()


def test_search_finds_comments_but_internal_notes_only_for_agents(requester, agent):
    ticket = make_ticket(requester, subject="Laptop slow")
    services.comment_on_ticket(ticket, by=agent, body="Remplacer le disque dur", internal=True)
    services.comment_on_ticket(ticket, by=agent, body="Nous allons changer la batterie")
    assert _found(agent, "disque") == {"Laptop slow"}
    assert _found(requester, "disque") == set()
    assert _found(requester, "batterie") == {"Laptop slow"}


def test_search_only_returns_visible_tickets(requester, requester_b, agent):
    make_ticket(requester, subject="Clavier cassé")
    assert _found(requester_b, "clavier") == set()
    assert _found(agent, "clavier") == {"Clavier cassé"}


def test_punctuation_only_query_matches_everything_visible(requester):
    make_ticket(requester, subject="VPN")
    assert _found(requester, '"*()') == {"VPN"}


def test_common_words_give_the_same_results_through_the_subquery(requester, agent, monkeypatch):
    from palier.tickets import search

    make_ticket(requester, subject="Panne du réseau Wi-Fi", description="Plus de connexion.")
    make_ticket(requester, subject="Réseau lent", description="")
    make_ticket(requester, subject="Printer jam", description="")
    few = _found(agent, "reseau")
    monkeypatch.setattr(search, "FEW_MATCHES", 0)  # every word counts as common
    assert _found(agent, "reseau") == few == {"Panne du réseau Wi-Fi", "Réseau lent"}
    assert _found(agent, "absent") == set()
