"""The cost of support on a hand-computed fixture (docs/reports-cost.md).

March 2026 in Europe/Paris. Rates: level 1 costs 40/h, then 60/h from 15 March; level 2 80/h; Marc
(L2) has his own 90/h from 10 March; the vendor group "Acme Vendor" (L4) costs 150 per escalation
and 120/h. T1 (category Hardware, triage group) and T2 (no category, Network L2), both of the
requester's organisation Acme.

    Léa   T1  10 Mar   90 min  1.5 h × 40 (L1)           =  60.00 labour
    Léa   T1  20 Mar   30 min  0.5 h × 60 (L1, new rate)  =  30.00 labour
    Léa   T1  18 Mar   15 min  a phone call, 0.25 h × 60  =  15.00 labour
    Marc  T2   5 Mar   60 min  1 h × 80 (L2, own rate not yet in force) = 80.00 labour
    Marc  T2  12 Mar   45 min  0.75 h × 90 (his own rate) =  67.50 labour
    Vic   T2  25 Mar   30 min  vendor staff, 0.5 h × 120 =  60.00 vendor
    T2 escalated to Acme Vendor on 24 Mar                 = 150.00 vendor
    T2 escalated again on 1 Apr 01:30 Paris (31 Mar 23:30 UTC): April, not counted
    Léa   T1  28 Feb  120 min  the previous period: 2 h × 40 = 80.00

March: labour 252.50, vendor 210.00, total 462.50, 270 minutes, 2 tickets → 231.25 per ticket.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.reports.filters import ReportFilters, scope_for
from palier.reports.metrics import cost
from palier.reports.periods import Period
from palier.reports.types import Table
from palier.tickets.models import Category, Ticket, TicketEvent
from palier.tickets.models import TimeEntry as CallTime
from palier.tickets.tests.builders import make_ticket
from palier.timelog import services
from palier.timelog.models import TimeEntry

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31), PARIS)


@pytest.fixture
def world(requester: User, agent: User, agent_l2: User, l2: SupportGroup, admin_user: User) -> dict[str, object]:
    hardware = Category.objects.create(slug="cost-hardware", name_en="Hardware", name_fr="Matériel")
    vendor = people.create_group(name="Acme Vendor", level=4, is_vendor=True)
    vic = people.create_user(email="vic@vendor.test", full_name="Vic Vendor", role=User.Role.AGENT)
    people.add_group_member(vendor, user=vic)
    t1 = make_ticket(requester, subject="T1")
    t2 = make_ticket(requester, subject="T2")
    Ticket.objects.filter(pk=t1.pk).update(category=hardware)
    Ticket.objects.filter(pk=t2.pk).update(group=l2)
    rate = services.set_cost_rate
    rate(by=admin_user, level=1, hourly_rate="40", valid_from=date(2026, 1, 1))
    rate(by=admin_user, level=1, hourly_rate="60", valid_from=date(2026, 3, 15))
    rate(by=admin_user, level=2, hourly_rate="80", valid_from=date(2026, 1, 1))
    rate(by=admin_user, agent=agent_l2, hourly_rate="90", valid_from=date(2026, 3, 10))
    rate(by=admin_user, group=vendor, hourly_rate="120", per_escalation="150", valid_from=date(2026, 1, 1))
    rate(by=admin_user, group=vendor, hourly_rate="120", per_escalation="200", valid_from=date(2026, 4, 1))
    for author, ticket, day, minutes in [
        (agent, t1, date(2026, 3, 10), 90),
        (agent, t1, date(2026, 3, 20), 30),
        (agent_l2, t2, date(2026, 3, 5), 60),
        (agent_l2, t2, date(2026, 3, 12), 45),
        (vic, t2, date(2026, 3, 25), 30),
        (agent, t1, date(2026, 2, 28), 120),
    ]:
        TimeEntry.objects.create(ticket=ticket, author=author, minutes=minutes, work_date=day)
    CallTime.objects.create(
        ticket=t1, user=agent, minutes=15, source="call", created_at=datetime(2026, 3, 18, 9, tzinfo=PARIS)
    )
    for at in (datetime(2026, 3, 24, 10, tzinfo=PARIS), datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo("UTC"))):
        data = {"to_group": "Acme Vendor", "to_level": 4, "from_group": "Network L2", "from_level": 2}
        TicketEvent.objects.create(ticket=t2, kind=TicketEvent.Kind.ESCALATED, data=data, created_at=at)
    return {"t1": t1, "t2": t2, "hardware": hardware, "vendor": vendor, "l2": l2}


def _cells(table: Table) -> dict[str, list[object]]:
    return {row.key: row.cells for row in table.rows}


def test_cost_kpis(world: dict[str, object], admin_user: User) -> None:
    scope = scope_for(admin_user, ReportFilters())
    kpis = {k.key: k for k in cost.cost_kpis(scope=scope, period=MARCH)}
    assert (kpis["cost_total"].value, kpis["cost_total"].previous) == (462.50, 80.00)
    assert (kpis["cost_per_ticket"].value, kpis["cost_per_ticket"].previous) == (231.25, 80.00)
    assert (kpis["time_logged_minutes"].value, kpis["time_logged_minutes"].previous) == (270.0, 120.0)
    assert kpis["cost_total"].unit == "money" and kpis["cost_total"].direction == "up"


def test_cost_by_level(world: dict[str, object], admin_user: User) -> None:
    table = cost.cost_by(scope=scope_for(admin_user, ReportFilters()), period=MARCH, by="level")
    assert [c for c, _label in table.columns] == ["minutes", "labour", "vendor", "total"]
    # L4: Vic's 30 min (60.00) + the March escalation (150.00); L2: 80 + 67.50; L1: 60 + 30 + 15
    assert [(row.key, row.cells) for row in table.rows] == [
        ("L4", [30.0, 0.0, 210.0, 210.0]),
        ("L2", [105.0, 147.5, 0.0, 147.5]),
        ("L1", [135.0, 105.0, 0.0, 105.0]),
    ]


def test_cost_by_category_group_organisation_month(world: dict[str, object], admin_user: User) -> None:
    scope = scope_for(admin_user, ReportFilters())
    hardware, vendor, l2 = world["hardware"], world["vendor"], world["l2"]
    by_category = cost.cost_by(scope=scope, period=MARCH, by="category")
    # T2 has no category: Marc's 147.50, Vic's 60 and the escalation's 150
    assert _cells(by_category) == {"none": [135.0, 147.5, 210.0, 357.5], str(hardware.pk): [135.0, 105.0, 0.0, 105.0]}  # type: ignore[attr-defined]
    assert [row.label for row in by_category.rows] == ["None", "Hardware"]
    with translation.override("fr"):
        labels = [row.label for row in cost.cost_by(scope=scope, period=MARCH, by="category").rows]
    assert labels[1] == "Matériel"
    by_group = cost.cost_by(scope=scope, period=MARCH, by="group")
    # the escalation goes to the vendor group, the hours to the ticket's group
    assert [(row.key, row.cells) for row in by_group.rows] == [
        (str(l2.pk), [135.0, 147.5, 60.0, 207.5]),  # type: ignore[attr-defined]
        (str(vendor.pk), [0.0, 0.0, 150.0, 150.0]),  # type: ignore[attr-defined]
        (str(world["t1"].group_id), [135.0, 105.0, 0.0, 105.0]),  # type: ignore[attr-defined]
    ]
    by_org = cost.cost_by(scope=scope, period=MARCH, by="organisation")
    assert [(row.label, row.cells) for row in by_org.rows] == [("Acme", [270.0, 252.5, 210.0, 462.5])]
    by_month = cost.cost_by(scope=scope, period=Period(date(2026, 2, 1), date(2026, 4, 30), PARIS), by="month")
    # February: Léa's 120 min; April: the second escalation at 200 (the April price)
    assert [(row.key, row.cells) for row in by_month.rows] == [
        ("2026-02", [120.0, 80.0, 0.0, 80.0]),
        ("2026-03", [270.0, 252.5, 210.0, 462.5]),
        ("2026-04", [0.0, 0.0, 200.0, 200.0]),
    ]


def test_a_manager_sees_the_cost_of_their_groups_only(world: dict[str, object], manager: User) -> None:
    # manager of the triage group: T1 only, 60 + 30 + 15
    kpis = {k.key: k.value for k in cost.cost_kpis(scope=scope_for(manager, ReportFilters()), period=MARCH)}
    assert kpis == {"cost_total": 105.0, "cost_per_ticket": 105.0, "time_logged_minutes": 135.0}


def test_nothing_logged_gives_zero_and_no_per_ticket_figure(admin_user: User) -> None:
    kpis = {k.key: k.value for k in cost.cost_kpis(scope=scope_for(admin_user, ReportFilters()), period=MARCH)}
    assert kpis == {"cost_total": 0.0, "cost_per_ticket": None, "time_logged_minutes": 0.0}
    assert cost.cost_by(scope=scope_for(admin_user, ReportFilters()), period=MARCH, by="group").rows == []


def test_the_registry_names_every_figure(world: dict[str, object], admin_user: User) -> None:
    assert set(cost.METRICS) == {"cost", *(f"cost-by-{by}" for by in cost.BY)}
    table = cost.METRICS["cost-by-month"](scope=scope_for(admin_user, ReportFilters()), period=MARCH)
    assert isinstance(table, Table) and table.key == "cost_month"


def test_the_queries_do_not_grow_with_the_entries(
    world: dict[str, object], admin_user: User, django_assert_max_num_queries: object
) -> None:
    scope = scope_for(admin_user, ReportFilters())
    with django_assert_max_num_queries(8):  # type: ignore[operator]
        cost.cost_by(scope=scope, period=MARCH, by="category")


def test_a_page_reads_the_costs_once_for_all_its_cost_panels(
    world: dict[str, object], admin_user: User, django_assert_max_num_queries: object
) -> None:
    scope = scope_for(admin_user, ReportFilters())  # one scope per page
    expected = {by: cost.cost_by(scope=scope_for(admin_user, ReportFilters()), period=MARCH, by=by) for by in cost.BY}
    cost.cost_kpis(scope=scope, period=MARCH)
    # the KPIs read the period's ledger: the breakdowns only read their row labels (categories,
    # organisations, groups), and give what each gives on a scope of its own
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        shared = {by: cost.cost_by(scope=scope, period=MARCH, by=by) for by in cost.BY}
    assert shared == expected
