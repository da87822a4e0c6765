"""SLA metrics against the hand-computed story of ``fixtures_quality`` (April 2026, Paris).

Expected values are worked out by hand from the story's table: the business minutes on the
"Business hours" calendar (09:00-18:00, Easter Monday 6 April closed) and the wall-clock minutes
between opening and the reply or the resolution.
"""

from __future__ import annotations

from datetime import date

import pytest

from palier.people.models import SupportGroup, User
from palier.reports.filters import ReportFilters, scope_for
from palier.reports.metrics import sla
from palier.reports.periods import Period
from palier.reports.tests.fixtures_quality import PARIS, Desk, Frozen, frozen_fixture, paris, sla_story  # noqa: F401
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db

APRIL = Period(date(2026, 4, 1), date(2026, 4, 30), PARIS)  # previous: 2 to 31 March


@pytest.fixture
def story(frozen: Frozen, requester: User, agent: User) -> dict[str, Ticket]:
    return sla_story(Desk(requester, agent, frozen))


def kpis(admin: User, function: object, period: Period = APRIL) -> dict[str, tuple[float | None, float | None]]:
    found = function(scope=scope_for(admin, ReportFilters()), period=period)  # type: ignore[operator]
    return {k.key: (k.value, k.previous) for k in found}


def test_compliance_kpis(story: dict[str, Ticket], admin_user: User) -> None:
    assert kpis(admin_user, sla.sla_kpis) == {
        # first responses ended in April: T0, T1, T2, T4 met, T3 missed -> 4 / 5; March: TP met
        "response_compliance": (80.0, 100.0),
        # resolutions ended in April: T0, T1, T2, T3, all met (T4 ends in May); March: TP
        "resolution_compliance": (100.0, 100.0),
        # T3's first response, breached on 13 April at 13:30; none in March
        "breaches": (1, 0),
    }


def test_compliance_table_counts_what_ran_past_the_end(story: dict[str, Ticket], admin_user: User) -> None:
    table = sla.sla_compliance(scope=scope_for(admin_user, ReportFilters()), period=APRIL)
    assert [key for key, _label in table.columns] == ["met", "breached", "running"]
    assert {row.key: row.cells for row in table.rows} == {
        # running at the end of April: T5's first response (T6 was cancelled: counted nowhere)
        "response": [4, 1, 1],
        # running at the end of April: T4 (resolved on 4 May) and T5
        "resolution": [4, 0, 2],
    }
    march = sla.sla_compliance(scope=scope_for(admin_user, ReportFilters()), period=APRIL.previous())
    # TP met both in March; T0 (opened 31 March 17:00) was running at the end of March
    assert {row.key: row.cells for row in march.rows} == {"response": [1, 0, 1], "resolution": [1, 0, 1]}


def test_breaches_list(story: dict[str, Ticket], admin_user: User, triage: SupportGroup) -> None:
    table = sla.sla_breaches(scope=scope_for(admin_user, ReportFilters()), period=APRIL)
    t3 = story["T3"]
    assert [(row.key, row.cells) for row in table.rows] == [
        (
            str(t3.pk),
            [
                t3.reference,
                "Breached",
                triage.name,
                "First response",
                "2026-04-13T13:00+02:00",
                "2026-04-13T13:30+02:00",
            ],
        )
    ]
    assert sla.sla_breaches(scope=scope_for(admin_user, ReportFilters()), period=APRIL.previous()).rows == []


def test_time_kpis_in_business_and_calendar_minutes(story: dict[str, Ticket], admin_user: User) -> None:
    assert kpis(admin_user, sla.time_kpis) == {
        # business: T0 90, T1 90 (Easter Monday closed), T2 60, T3 540, T4 60 -> mean 840/5, median 90
        "response_business_mean": (168.0, 30.0),
        "response_business_median": (90.0, 30.0),
        # calendar: T0 16 h 30 = 990, T1 3 d 16 h 30 = 5310, T2 60, T3 24 h = 1440, T4 60
        # -> mean 7860/5 = 1572, median 990; March: TP 30
        "response_calendar_mean": (1572.0, 30.0),
        "response_calendar_median": (990.0, 30.0),
        # business: T0 120, T1 390, T2 180 (540 paused excluded), T3 720 -> mean 1410/4, median (180+390)/2
        "resolution_business_mean": (352.5, 120.0),
        "resolution_business_median": (285.0, 120.0),
        # calendar: T0 17 h = 1020, T1 3 d 21 h 30 = 5610, T2 27 h = 1620, T3 27 h = 1620
        # -> mean 9870/4 = 2467.5, median (1620+1620)/2; March: TP 2 h
        "resolution_calendar_mean": (2467.5, 120.0),
        "resolution_calendar_median": (1620.0, 120.0),
    }


def test_nothing_to_measure_gives_none(admin_user: User) -> None:
    found = kpis(admin_user, sla.time_kpis)
    assert set(found.values()) == {(None, None)}
    assert kpis(admin_user, sla.sla_kpis) == {
        "response_compliance": (None, None),
        "resolution_compliance": (None, None),
        "breaches": (0, 0),
    }


def test_figures_follow_the_scope(story: dict[str, Ticket], admin_user: User, l2: SupportGroup) -> None:
    scope = scope_for(admin_user, ReportFilters(group=l2.pk))  # no ticket is in L2
    assert {row.key: row.cells for row in sla.sla_compliance(scope=scope, period=APRIL).rows} == {
        "response": [0, 0, 0],
        "resolution": [0, 0, 0],
    }
    assert sla.sla_breaches(scope=scope, period=APRIL).rows == []


def test_registry_names_every_metric() -> None:
    assert {
        "sla_kpis": sla.sla_kpis,
        "sla_compliance": sla.sla_compliance,
        "sla_breaches": sla.sla_breaches,
        "time_kpis": sla.time_kpis,
    } == sla.METRICS


def test_query_counts_do_not_grow_with_the_clocks(
    story: dict[str, Ticket],
    frozen: Frozen,
    requester: User,
    agent: User,
    admin_user: User,
    django_assert_num_queries: object,
) -> None:
    expected = {sla.sla_kpis: 3, sla.sla_compliance: 1, sla.sla_breaches: 1, sla.time_kpis: 2}

    def check() -> None:
        scope = scope_for(admin_user, ReportFilters())
        for function, queries in expected.items():
            with django_assert_num_queries(queries):  # type: ignore[operator]
                function(scope=scope, period=APRIL)  # type: ignore[operator]

    check()
    desk = Desk(requester, agent, frozen)
    for day in (20, 21, 22):
        ticket = desk.open(paris(2026, 4, day, 9, 0), "More")
        desk.sweep(paris(2026, 4, day, 14, 0))
        desk.reply(ticket, paris(2026, 4, day, 15, 0))
        desk.move(ticket, paris(2026, 4, day, 16, 0), "resolved")
    check()
    assert kpis(admin_user, sla.sla_kpis)["breaches"] == (4, 0)  # three more first responses breached


def test_a_manager_of_the_group_sees_the_same_figures(story: dict[str, Ticket], manager: User) -> None:
    # every ticket of the story is in the triage group the manager runs (scope with a subquery)
    table = sla.sla_compliance(scope=scope_for(manager, ReportFilters()), period=APRIL)
    assert {row.key: row.cells for row in table.rows} == {"response": [4, 1, 1], "resolution": [4, 0, 2]}
    assert kpis(manager, sla.sla_kpis)["breaches"] == (1, 0)
