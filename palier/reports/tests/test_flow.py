"""The ticket-flow figures against the hand-counted week of ``fixtures_flow.build_world``.

The week is Monday 4 to Sunday 10 May 2026 in Paris (its previous period: 27 April to 3 May).
Each expected number below is counted by hand from the fixture, with the tickets named.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from palier.people.models import SupportGroup, User
from palier.reports import facts
from palier.reports.filters import ReportFilters, Scope, scope_for
from palier.reports.metrics import flow
from palier.reports.periods import Period
from palier.reports.tests import fixtures_flow as fx
from palier.reports.types import Kpi, Series, Table
from palier.tickets import stream
from palier.timelog.models import TimeEntry

WEEK = Period(date(2026, 5, 4), date(2026, 5, 10), fx.PARIS)
WEEK_MONTREAL = Period(date(2026, 5, 4), date(2026, 5, 10), fx.MONTREAL)


@pytest.fixture(params=["facts", "live"])
def world(
    request: pytest.FixtureRequest,
    settings: Any,
    requester: User,
    agent: User,
    agent_l2: User,
    triage: SupportGroup,
    l2: SupportGroup,
) -> fx.World:
    """The hand-counted week, read from the per-ticket facts the event stream keeps (what the
    dashboards serve) and live from the history (the reference): each count holds for both."""
    built = fx.build_world(requester=requester, lea=agent, marc=agent_l2, triage=triage, l2=l2)
    if request.param == "live":
        settings.PALIER_REPORTS_SOURCE = "live"
    else:
        while stream.pump("reports"):
            pass
    return built


@pytest.fixture
def everything(world: fx.World, admin_user: User) -> Scope:
    return scope_for(admin_user, ReportFilters())


def values(series: list[Series]) -> dict[str, list[float]]:
    return {s.key: [p.value for p in s.points] for s in series}


def kpis(items: list[Kpi]) -> dict[str, tuple[float | None, float | None]]:
    return {k.key: (k.value, k.previous) for k in items}


def cells(table: Table) -> dict[str, list[float | int | str | None]]:
    return {row.key: row.cells for row in table.rows}


def test_flow_kpis_of_the_week_and_the_week_before(everything: Scope) -> None:
    figures = kpis(flow.flow_kpis(scope=everything, period=WEEK))
    # created: t0 t1 t2 t3 t4 t5(cancelled) t8 t9 = 8; before: t6 t10 t11 t12 = 4
    assert figures["created"] == (8, 4)
    # resolved (resolved_at): t1 t2 t3 t4 t6 t8 = 6; before: t11 t12 = 2
    assert figures["resolved"] == (6, 2)
    assert figures["resolution_rate"] == (75.0, 50.0)  # 6/8; 2/4
    # of the 8 created, resolved since: t1 t2 t3 t4 t8 = 5/8; before t6 t11 t12 = 3/4
    assert figures["resolved_share"] == (62.5, 75.0)
    # first contact among the 6 resolved: t1 (one public reply), t6 (none) = 2/6;
    # not t2 (two replies), t3 (reopened), t4 and t8 (escalated). Before: t11 yes, t12 two replies
    assert figures["fcr_rate"] == (33.3, 50.0)
    # resolutions in the week: t1 t2 t3 (twice) t4 t6 t8 = 6 tickets, t3 reopened after = 1/6
    assert figures["reopen_rate"] == (16.7, 0.0)
    # escalated among the 8 created: t4 t8 = 2/8; before none of 4
    assert figures["escalation_rate"] == (25.0, 0.0)


def test_backlog_kpis_at_the_end_of_each_period(everything: Scope) -> None:
    figures = kpis(flow.backlog_kpis(scope=everything, period=WEEK))
    # open at 11 May 00:00: t0 t9 t10 (t7 came after); at 4 May 00:00: t10, and t6 (resolved 4 May 08:00)
    assert figures["open"] == (3, 2)
    # now: t0 t7; at 4 May 00:00 every open ticket had someone (t6 and t10 Léa's)
    assert figures["unassigned"] == (2, 0)
    assert figures["pending_vendor"] == (1, 0)  # t9 since 7 May; nobody waited for a vendor on 4 May


def test_backlog_at_a_day_boundary_counts_cancelled_and_resolved_tickets_until_they_ended(everything: Scope) -> None:
    wednesday = Period(date(2026, 5, 6), date(2026, 5, 6), fx.PARIS)
    # at 7 May 00:00: t0 t10 (open), t3 (reopened on the 6th), t5 (cancelled on the 7th at 10:00),
    # t8 (resolved on the 8th)
    # at 6 May 00:00: t0 t10, t4 (resolved on the 6th at 15:00), and t3: it was resolved then
    # (5 May) and reopened later; the ticket row keeps only its last resolution (7 May), so it
    # counts as open, the documented approximation of reading columns rather than the history
    assert kpis(flow.backlog_kpis(scope=everything, period=wednesday))["open"] == (5, 4)


def test_created_and_resolved_per_day_in_paris_and_in_montreal(everything: Scope, admin_user: User) -> None:
    paris = values(flow.created_resolved(scope=everything, period=WEEK))
    assert paris["created"] == [3, 2, 2, 1, 0, 0, 0]  # 4 May: t0 t1 t2; 5: t3 t4; 6: t5 t8; 7: t9
    assert paris["resolved"] == [2, 1, 1, 1, 1, 0, 0]  # 4 May: t1 t6; 5: t2; 6: t4; 7: t3; 8: t8
    montreal = values(flow.created_resolved(scope=everything, period=WEEK_MONTREAL))
    # t0 (3 May 21:00 in Montréal) leaves the week, t7 (10 May 19:00 in Montréal) enters it
    assert montreal["created"] == [2, 2, 2, 1, 0, 0, 1]
    assert montreal["resolved"] == [2, 1, 1, 1, 1, 0, 0]


def test_long_periods_count_by_week(everything: Scope) -> None:
    ten_weeks = Period(date(2026, 3, 2), date(2026, 5, 10), fx.PARIS)  # 70 days: weekly buckets
    created = flow.created_resolved(scope=everything, period=ten_weeks)[0]
    assert [p.day for p in created.points][-2:] == [date(2026, 4, 27), date(2026, 5, 4)]
    # week of 27 April: t11 t10 t12 t6; week of 4 May: the 8 of the week; none before
    assert [p.value for p in created.points] == [0] * 8 + [4, 8]


def test_resolution_by_level_with_self_service(everything: Scope) -> None:
    paris = values(flow.resolution_by_level(scope=everything, period=WEEK))
    assert paris == {
        "self": [2, 0, 0, 0, 0, 0, 1],  # deflections 4 May 01:00 and 12:00, 10 May 23:30
        "L1": [2, 1, 0, 1, 0, 0, 0],  # t1 t6; t2; t3 (its second resolution)
        "L2": [0, 0, 1, 0, 0, 0, 0],  # t4, credited to L2 where it was resolved
        "L3": [0] * 7,
        "vendor": [0, 0, 0, 0, 1, 0, 0],  # t8
    }
    montreal = values(flow.resolution_by_level(scope=everything, period=WEEK_MONTREAL))
    assert montreal["self"] == [1, 0, 0, 0, 0, 0, 1]  # 4 May 01:00 Paris is 3 May in Montréal


def test_channel_mix(everything: Scope) -> None:
    mix = values(flow.channel_mix(scope=everything, period=WEEK))
    assert mix["web"] == [1, 1, 1, 0, 0, 0, 0]  # t1; t4; t8
    assert mix["email"] == [1, 0, 1, 1, 0, 0, 0]  # t2; t5; t9
    assert mix["phone"] == [0, 1, 0, 0, 0, 0, 0]  # t3
    assert mix["monitoring"] == [1, 0, 0, 0, 0, 0, 0]  # t0
    assert mix["teams"] == mix["slack"] == mix["api"] == [0] * 7
    assert [s.key for s in flow.channel_mix(scope=everything, period=WEEK)] == list(flow.Ticket.Channel.values)


def test_top_categories_flag_the_rising_one(everything: Scope, world: fx.World) -> None:
    table = flow.top_categories(scope=everything, period=WEEK)
    # printers: t0 t1 t2 t3 t9 = 5; the 4 weeks before (6 April - 3 May): t6 t10 t11 = 3, 0.75 a week
    # network: t4 t5 t8 = 3 (under the minimum of 5); before: t12, 0.25 a week
    assert [row.key for row in table.rows] == [str(world.printers.pk), str(world.network.pk)]
    assert cells(table) == {str(world.printers.pk): [5, 0.8, 1], str(world.network.pk): [3, 0.3, 0]}
    assert [c for c, _label in table.columns] == ["count", "previous_avg", "rising"]


def test_the_rising_rule() -> None:
    assert flow.is_rising(5, 0) and flow.is_rising(6, 4.0)
    assert not flow.is_rising(4, 0)  # too few
    assert not flow.is_rising(5, 4.0)  # 5 < 1.5 x 4


def test_agent_workload(everything: Scope, agent: User, agent_l2: User) -> None:
    table = flow.agent_workload(scope=everything, period=WEEK)
    # Léa: open t10; resolved t1 t2 t3 t6; handling from her first assignment to the resolution:
    # t1 2 h = 120, t2 (assigned 4 May 11:00, resolved 5 May 10:00) 1380, t3 (opened to her
    # 5 May 08:00, finally resolved 7 May 09:00) 2940, t6 (1 May 10:00 to 4 May 08:00) 4200 -> 8640 / 4
    # Marc: open t9; resolved t4, his since 5 May 15:00 (Léa had it before the escalation) -> 1440
    assert [row.key for row in table.rows] == [str(agent.pk), str(agent_l2.pk)]
    # no time logged in this fixture: the last column is 0 (see the test below)
    assert cells(table) == {str(agent.pk): [1, 4, 2160.0, 0], str(agent_l2.pk): [1, 1, 1440.0, 0]}


def test_agent_workload_counts_the_time_logged_on_the_scope_in_the_period(
    everything: Scope, world: fx.World, agent: User, admin_user: User
) -> None:
    t10 = world.tickets["t10"]
    TimeEntry.objects.create(ticket=t10, author=agent, minutes=25, work_date=WEEK.first)
    TimeEntry.objects.create(ticket=t10, author=agent, minutes=500, work_date=WEEK.first - timedelta(days=1))
    # the admin logged 40 minutes on a ticket of the scope without having any assigned: a row of their own
    TimeEntry.objects.create(ticket=t10, author=admin_user, minutes=40, work_date=WEEK.last)
    table = flow.agent_workload(scope=everything, period=WEEK)
    assert cells(table)[str(agent.pk)][3] == 25  # the 500 minutes were logged the day before the week
    assert cells(table)[str(admin_user.pk)] == [0, 0, None, 40]


def test_group_workload_credits_the_group_at_resolution(everything: Scope, world: fx.World) -> None:
    table = flow.group_workload(scope=everything, period=WEEK)
    assert cells(table) == {
        # open t0 t7 t10; created t0 t1 t2 t3 t5; resolved t1 t2 t3 t6; unassigned t0 t7
        str(world.triage.pk): [3, 5, 4, 2],
        # open t9; created t4 (moved here) t9; resolved t4
        str(world.l2.pk): [1, 2, 1, 0],
        str(world.vendor.pk): [0, 1, 1, 0],  # t8
    }


def test_a_manager_sees_only_their_groups(world: fx.World, manager: User) -> None:
    scope = scope_for(manager, ReportFilters())
    assert list(cells(flow.group_workload(scope=scope, period=WEEK))) == [str(world.triage.pk)]
    # created in the triage group (t4 and t8 are in other groups now): t0 t1 t2 t3 t5
    # before: t6 t10 t11 (t12 is in L2)
    assert kpis(flow.flow_kpis(scope=scope, period=WEEK))["created"] == (5, 3)
    # self-service is desk-wide: the group filter does not apply to deflections
    assert values(flow.resolution_by_level(scope=scope, period=WEEK))["self"] == [2, 0, 0, 0, 0, 0, 1]


def test_personal_figures_have_no_self_service(world: fx.World, agent: User) -> None:
    scope = scope_for(agent, ReportFilters(personal=True))
    levels = values(flow.resolution_by_level(scope=scope, period=WEEK))
    assert levels["self"] == [0] * 7
    assert levels["L1"] == [2, 1, 0, 1, 0, 0, 0]  # t1 t6; t2; t3: all Léa's


@pytest.mark.django_db
def test_backlog_by_status_and_age(requester: User, agent: User, triage: SupportGroup, admin_user: User) -> None:
    now = timezone.now()
    for hours in (2, 30, 24 * 5, 24 * 10, 24 * 40):  # one ticket in each age bucket
        fx.ticket(requester, created=now - timedelta(hours=hours), group=triage)
    fx.ticket(requester, created=now - timedelta(days=2), group=triage, assignee=agent, status=fx.S.IN_PROGRESS)
    resolved = fx.ticket(requester, created=now - timedelta(days=2), group=triage)
    fx.resolve(resolved, at=now)
    table = flow.backlog(scope=scope_for(admin_user, ReportFilters()), period=WEEK)
    assert [c for c, _label in table.columns] == ["lt1d", "1_3d", "3_7d", "7_30d", "gt30d", "total"]
    assert [row.key for row in table.rows] == [s.value for s in flow.Ticket.OPEN_STATUSES]
    assert cells(table)["new"] == [1, 1, 1, 1, 1, 5]
    assert cells(table)["in_progress"] == [0, 1, 0, 0, 0, 1]
    assert cells(table)["pending_vendor"] == [0] * 6  # the resolved one is not in the backlog


QUERIES = {
    # the tickets, then the intervals unassigned and pending a vendor at the previous period's end
    # (live: for each, the candidates' ids and their histories, by chunks of 2,000 tickets)
    "backlog_kpis": 3,
    "backlog": 1,
    "created_resolved": 2,
    "flow_kpis": 2,
    "resolution_by_level": 2,  # tickets, then the knowledge base's deflections
    "channel_mix": 1,
    "top_categories": 1,
    "agent_workload": 3,  # tickets, then time entries and phone calls (timelog.selectors.minutes_by_agent)
    "group_workload": 1,
}


def test_the_registry_lists_every_metric() -> None:
    assert set(flow.METRICS) == set(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_count_does_not_grow_with_tickets(
    name: str, everything: Scope, world: fx.World, requester: User, agent: User, django_assert_num_queries
) -> None:
    metric = flow.METRICS[name]
    facts.use_facts(everything)  # whether to read the facts: one query per page, asked once
    expected = QUERIES[name] + (2 if name == "backlog_kpis" and not facts.use_facts(everything) else 0)
    with django_assert_num_queries(expected):
        metric(scope=everything, period=WEEK)
    for day in range(4, 11):  # seven more tickets, each with a reply and a resolution
        extra = fx.ticket(requester, created=fx.paris(day, 8), group=world.l2, assignee=agent, category=world.network)
        fx.reply(extra, agent, at=fx.paris(day, 9))
        fx.resolve(extra, at=fx.paris(day, 10))
    with django_assert_num_queries(expected):
        metric(scope=everything, period=WEEK)
