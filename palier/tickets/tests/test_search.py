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
    monkeypatch.setattr(search, "LIST_EXPECTED", -1)
    assert _found(agent, "reseau") == few == {"Panne du réseau Wi-Fi", "Réseau lent"}
    assert _found(agent, "absent") == set()


def _pages(user, q, sort):
    """Every ticket id ``user`` finds for ``q``, in ``sort`` order, read 2 per page."""
    out, cursor = [], None
    while True:
        page = selectors.ticket_page(user, filters=TicketFilters(q=q), sort=sort, cursor=cursor, limit=2)
        out += [t.pk for t in page.items]
        if page.next_cursor is None:
            return out
        cursor = page.next_cursor


def test_every_strategy_finds_the_same_tickets_in_the_same_order(requester, agent, agent_l2, l2, monkeypatch):
    """Rare words (an id list), common words (a subquery): same tickets, same order, same pages;
    accents and case ignored, word starts matched, all words in one message, internal notes
    only for the desk, never on the agent's own requests."""
    from palier.tickets import search

    a = make_ticket(requester, subject="Réseau coupé", description="Plus de connexion au réseau.")
    b = make_ticket(requester, subject="Printer jam", description="Le RESEAU marche")
    c = make_ticket(requester, subject="Autre", description="rien")
    services.comment_on_ticket(c, by=agent, body="Réseau du 2e à vérifier", internal=True)
    d = make_ticket(requester, subject="Imprimante réseau L2", group=l2, by=agent_l2)
    own = make_ticket(agent, by=agent_l2, subject="Mon poste", group=l2, assignee=agent_l2)  # a case about them
    services.comment_on_ticket(own, by=agent_l2, body="réseau interne", internal=True)
    e = make_ticket(requester, subject="Réseau lent", description="")
    services.comment_on_ticket(e, by=agent, body="Printer paper")  # "printer réseau": never in one message
    services.comment_on_ticket(a, by=agent, body="Toujours en panne")  # a is now the last updated
    queries = ["reseau", "RÉSEAU", "rés", "printer jam", "reseau marche", "printer reseau", "absentword", "2e"]
    found = {(q, s): _pages(agent, q, s) for q in queries for s in selectors.SORTS}
    assert set(found["reseau", "-created"]) == {a.pk, b.pk, c.pk, e.pk}  # not d: another group's
    assert d.pk in _pages(agent_l2, "reseau", "-created")
    assert own.pk not in found["reseau", "-created"]  # the internal note on the agent's own request
    assert found["printer reseau", "-created"] == [b.pk]  # e has both words, not in one message
    assert found["rés", "-updated"] == found["reseau", "-updated"] == found["RÉSEAU", "-updated"]
    monkeypatch.setattr(search, "FEW_MATCHES", 0)  # every word counts as common (SQLite)
    monkeypatch.setattr(search, "LIST_EXPECTED", -1)  # PostgreSQL: no id list...
    monkeypatch.setattr(search, "WALK_EXPECTED", 10**9)  # ...and no walk: the subquery
    assert {(q, s): _pages(agent, q, s) for q in queries for s in selectors.SORTS} == found
    monkeypatch.setattr(search, "WALK_EXPECTED", -1)  # PostgreSQL: newest first walks the tickets
    assert {(q, s): _pages(agent, q, s) for q in queries for s in selectors.SORTS} == found


def test_a_word_more_common_than_expected_falls_back_to_the_subquery(requester, agent, monkeypatch):
    from palier.tickets import search

    tickets = [make_ticket(requester, subject=f"Réseau {i}") for i in range(3)]
    monkeypatch.setattr(search, "FEW_MATCHES", 1)  # SQLite: more than one entry is common
    monkeypatch.setattr(search, "LIST_MAX", 1)  # PostgreSQL: expected few, found more than the list takes
    assert _pages(agent, "reseau", "-created") == [t.pk for t in reversed(tickets)]


def test_quotes_and_sql_in_a_search_are_words_or_nothing(requester, agent):
    make_ticket(requester, subject="Robert's printer")
    make_ticket(requester, subject="Other")
    # the words are written into the statement on PostgreSQL: only word characters get there
    assert _found(agent, "robert'; DROP TABLE tickets_ticket; --") == set()
    assert _found(agent, "robert's") == {"Robert's printer"}
    assert _found(agent, "printer\n") == {"Robert's printer"}
    assert _found(agent, "\\') OR 1=1 --") == set()
    assert len(_found(agent, "")) == 2
