"""CSAT metrics against known answers (April 2026, Paris; the previous period is 2-31 March).

The fixture: six resolved tickets, four in the triage group (two assigned to Léa, two to Marc)
and two in L2 (Marc). Survey requests and answers are written with known dates:

====  =======  ===============  =========  ======================  ==============================
t     group    agent            asked      answered                score, comment
====  =======  ===============  =========  ======================  ==============================
a     triage   Léa              1 Apr      2 Apr 10:00             5 "Great"
b     triage   Léa              3 Apr      5 Apr 10:00             4
c     triage   Marc             10 Apr     12 Apr 10:00            2 "Too slow"
d     L2       Marc             20 Apr     21 Apr 10:00            1 "Nobody called back"
e     L2       Marc             28 Apr     (no answer)
m     triage   Léa              25 Mar     26 Mar 10:00            3 (the previous period)
====  =======  ===============  =========  ======================  ==============================
"""

from __future__ import annotations

from datetime import date

import pytest

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.reports.filters import ReportFilters, scope_for
from palier.reports.metrics import satisfaction
from palier.reports.periods import Period
from palier.reports.tests.fixtures_quality import PARIS, answer, ask, paris, resolved
from palier.surveys.models import SurveyRequest
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db

APRIL = Period(date(2026, 4, 1), date(2026, 4, 30), PARIS)


@pytest.fixture
def answers(requester: User, agent: User, agent_l2: User, l2: SupportGroup, triage: SupportGroup) -> dict[str, Ticket]:
    people.add_group_member(triage, user=agent_l2)
    t = {
        "a": resolved(requester, agent, subject="A"),
        "b": resolved(requester, agent, subject="B"),
        "c": resolved(requester, agent_l2, subject="C"),
        "d": resolved(requester, agent_l2, subject="D", group_id=l2.pk),
        "e": resolved(requester, agent_l2, subject="E", group_id=l2.pk),
        "m": resolved(requester, agent, subject="M"),
    }
    SurveyRequest.objects.all().delete()  # the real requests went out today: replace them by dated ones
    for key, day in (("a", 1), ("b", 3), ("c", 10), ("d", 20), ("e", 28)):
        ask(t[key], paris(2026, 4, day, 9, 0))
    ask(t["m"], paris(2026, 3, 25, 9, 0))
    answer(t["a"], score=5, at=paris(2026, 4, 2, 10, 0), comment="Great")
    answer(t["b"], score=4, at=paris(2026, 4, 5, 10, 0))
    answer(t["c"], score=2, at=paris(2026, 4, 12, 10, 0), comment="Too slow")
    answer(t["d"], score=1, at=paris(2026, 4, 21, 10, 0), comment="Nobody called back")
    answer(t["m"], score=3, at=paris(2026, 3, 26, 10, 0))
    return t


def test_average_and_response_rate(answers: dict[str, Ticket], admin_user: User) -> None:
    found = satisfaction.csat_kpis(scope=scope_for(admin_user, ReportFilters()), period=APRIL)
    assert {k.key: (k.value, k.previous, k.unit) for k in found} == {
        # April answers 5, 4, 2, 1 -> 12 / 4 = 3.0; March: the one 3
        "csat_average": (3.0, 3.0, "score"),
        # asked in April: a, b, c, d, e; answered: a, b, c, d -> 80 %; March: m asked and answered
        "csat_response_rate": (80.0, 100.0, "percent"),
    }


def test_distribution_lists_every_score(answers: dict[str, Ticket], admin_user: User) -> None:
    table = satisfaction.csat_distribution(scope=scope_for(admin_user, ReportFilters()), period=APRIL)
    assert [(row.key, row.cells) for row in table.rows] == [
        ("1", [1]),
        ("2", [1]),
        ("3", [0]),  # the 3 was given in March
        ("4", [1]),
        ("5", [1]),
    ]


def test_latest_comments_newest_first(
    answers: dict[str, Ticket], admin_user: User, l2: SupportGroup, triage: SupportGroup
) -> None:
    table = satisfaction.csat_comments(scope=scope_for(admin_user, ReportFilters()), period=APRIL)
    assert [(row.key, row.cells) for row in table.rows] == [
        (str(answers["d"].pk), [1, "Nobody called back", "2026-04-21T10:00+02:00", l2.name, "Marc L2"]),
        (str(answers["c"].pk), [2, "Too slow", "2026-04-12T10:00+02:00", triage.name, "Marc L2"]),
        (str(answers["a"].pk), [5, "Great", "2026-04-02T10:00+02:00", triage.name, "Léa L1"]),
    ]


def test_by_group_and_by_agent(
    answers: dict[str, Ticket], admin_user: User, l2: SupportGroup, triage: SupportGroup
) -> None:
    scope = scope_for(admin_user, ReportFilters())
    by_group = satisfaction.csat_by_group(scope=scope, period=APRIL)
    # triage: a 5, b 4, c 2 -> 11 / 3 = 3.67; L2: d 1
    assert [(row.key, row.cells) for row in by_group.rows] == [(str(triage.pk), [3, 3.67]), (str(l2.pk), [1, 1.0])]
    by_agent = satisfaction.csat_by_agent(scope=scope, period=APRIL)
    lea, marc = answers["a"].assignee, answers["c"].assignee
    assert lea is not None and marc is not None
    # Léa: a 5, b 4 -> 4.5; Marc: c 2, d 1 -> 1.5 (same count: by name)
    assert [(row.key, row.label, row.cells) for row in by_agent.rows] == [
        (str(lea.pk), "Léa L1", [2, 4.5]),
        (str(marc.pk), "Marc L2", [2, 1.5]),
    ]


def test_a_manager_sees_only_their_groups(answers: dict[str, Ticket], manager: User) -> None:
    found = satisfaction.csat_kpis(scope=scope_for(manager, ReportFilters()), period=APRIL)
    # the manager runs triage only: a 5, b 4, c 2 -> 3.67; asked a, b, c, all answered
    assert {k.key: k.value for k in found} == {"csat_average": 3.67, "csat_response_rate": 100.0}


def test_query_counts_do_not_grow_with_the_answers(
    answers: dict[str, Ticket], requester: User, agent: User, admin_user: User, django_assert_num_queries: object
) -> None:
    expected = {
        satisfaction.csat_kpis: 2,
        satisfaction.csat_distribution: 1,
        satisfaction.csat_comments: 1,
        satisfaction.csat_by_group: 1,
        satisfaction.csat_by_agent: 1,
    }

    def check() -> None:
        scope = scope_for(admin_user, ReportFilters())
        for function, queries in expected.items():
            with django_assert_num_queries(queries):  # type: ignore[operator]
                function(scope=scope, period=APRIL)  # type: ignore[operator]

    check()
    for n in range(5):
        ticket = resolved(requester, agent, subject=f"More {n}")
        answer(ticket, score=5, at=paris(2026, 4, 15, 10, n), comment="ok")
    check()
