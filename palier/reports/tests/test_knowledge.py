"""Knowledge-base metrics against known activity (April 2026, Paris; previous: 2-31 March), and the
recording of views and failed searches they read.

The fixture (three published articles: "Printer", "VPN", "Wi-Fi"):

* views: Printer by Alice on 2 and 3 April and by Bob on 3 April (3), VPN by Alice on 10 April (1),
  Wi-Fi by Bob on 15 March (the previous period);
* deflections: VPN by Alice on 11 and 12 April (2), Printer by Bob on 20 April (1), Wi-Fi by Bob
  on 20 March;
* votes: Printer yes (Alice, 4 April), Printer no (Bob, 5 April), VPN yes (Bob, 6 April), Wi-Fi
  yes (Alice, 16 March);
* failed searches: "imprimante couleur" by Alice on 2 and 9 April and by Bob on 9 April (3),
  "badge" by Bob on 14 April (1), "old" by Alice on 10 March.
"""

from __future__ import annotations

from datetime import date

import pytest

from palier.kb.models import Article
from palier.kb.tests.builders import make_article
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.reports.metrics import knowledge
from palier.reports.periods import Period
from palier.reports.tests.fixtures_quality import PARIS, deflected, paris, searched, viewed, voted

pytestmark = pytest.mark.django_db

APRIL = Period(date(2026, 4, 1), date(2026, 4, 30), PARIS)


@pytest.fixture
def articles(agent: User, requester: User, requester_b: User) -> dict[str, Article]:
    a = {
        "printer": make_article(agent, en=("Printer", "Clear the jam.")),
        "vpn": make_article(agent, en=("VPN", "Reconnect."), fr=("VPN (fr)", "Reconnectez.")),
        "wifi": make_article(agent, en=("Wi-Fi", "Forget the network.")),
    }
    alice, bob = requester, requester_b
    viewed(a["printer"], alice, paris(2026, 4, 2, 10, 0))
    viewed(a["printer"], alice, paris(2026, 4, 3, 10, 0))
    viewed(a["printer"], bob, paris(2026, 4, 3, 11, 0))
    viewed(a["vpn"], alice, paris(2026, 4, 10, 10, 0))
    viewed(a["wifi"], bob, paris(2026, 3, 15, 10, 0))
    deflected(a["vpn"], alice, paris(2026, 4, 11, 10, 0))
    deflected(a["vpn"], alice, paris(2026, 4, 12, 10, 0))
    deflected(a["printer"], bob, paris(2026, 4, 20, 10, 0))
    deflected(a["wifi"], bob, paris(2026, 3, 20, 10, 0))
    voted(a["printer"], alice, helpful=True, at=paris(2026, 4, 4, 10, 0))
    voted(a["printer"], bob, helpful=False, at=paris(2026, 4, 5, 10, 0))
    voted(a["vpn"], bob, helpful=True, at=paris(2026, 4, 6, 10, 0))
    voted(a["wifi"], alice, helpful=True, at=paris(2026, 3, 16, 10, 0))
    searched("imprimante couleur", alice, paris(2026, 4, 2, 10, 0))
    searched("imprimante couleur", alice, paris(2026, 4, 9, 10, 0))
    searched("imprimante couleur", bob, paris(2026, 4, 9, 11, 0))
    searched("badge", bob, paris(2026, 4, 14, 10, 0))
    searched("old", alice, paris(2026, 3, 10, 10, 0))
    return a


def test_kpis(articles: dict[str, Article], manager: User) -> None:
    found = knowledge.knowledge_kpis(viewer=manager, period=APRIL)
    assert {k.key: (k.value, k.previous) for k in found} == {
        "views": (4, 1),  # Printer 3 + VPN 1; March: Wi-Fi 1
        "deflections": (3, 1),  # VPN 2 + Printer 1; March: Wi-Fi 1
        "helpful_votes": (2, 1),  # Printer and VPN yes (Bob's no does not count); March: Wi-Fi
    }


def test_top_articles_by_views_then_deflections(articles: dict[str, Article], agent: User) -> None:
    table = knowledge.top_articles(viewer=agent, period=APRIL)
    assert [key for key, _label in table.columns] == ["views", "deflections", "helpful", "not_helpful"]
    assert [(row.key, row.label, row.cells) for row in table.rows] == [
        (str(articles["printer"].pk), "Printer", [3, 1, 1, 1]),
        (str(articles["vpn"].pk), "VPN", [1, 2, 1, 0]),  # English title for an English reader
    ]


def test_failed_searches_most_frequent_first(articles: dict[str, Article], agent: User) -> None:
    table = knowledge.failed_searches(viewer=agent, period=APRIL)
    assert [(row.key, row.cells) for row in table.rows] == [
        ("imprimante couleur", [3, "2026-04-09"]),
        ("badge", [1, "2026-04-14"]),
    ]


def test_requesters_may_not_see_the_figures(requester: User) -> None:
    for function in knowledge.METRICS.values():
        with pytest.raises(PermissionDenied):
            function(viewer=requester, period=APRIL)


def test_query_counts_do_not_grow_with_the_activity(
    articles: dict[str, Article], agent: User, requester: User, django_assert_num_queries: object
) -> None:
    expected = {knowledge.knowledge_kpis: 3, knowledge.top_articles: 4, knowledge.failed_searches: 1}

    def check() -> None:
        for function, queries in expected.items():
            with django_assert_num_queries(queries):  # type: ignore[operator]
                function(viewer=agent, period=APRIL)

    check()
    for n in range(4):
        extra = make_article(agent, en=(f"Extra {n}", "text"))
        viewed(extra, requester, paris(2026, 4, 20, 10, n))
        deflected(extra, requester, paris(2026, 4, 20, 11, n))
        searched(f"nothing {n}", requester, paris(2026, 4, 21, 10, n))
    check()
