"""Problem and change figures against hand-counted data, and their dashboard panels."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.changes.models import Change, ChangeProblem, ChangeTicket
from palier.people.models import SupportGroup, User
from palier.problems.models import Problem, ProblemIncident
from palier.reports.filters import ReportFilters, scope_for
from palier.reports.metrics import changes, problems
from palier.reports.periods import period_for
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def _period():
    today = timezone.now().astimezone(UTC).date()
    return period_for("30d", zone=UTC, today=today, first=None, last=None)


def _change(
    n: int,
    *,
    closed_days_ago: int | None,
    outcome: str = "",
    kind: str = "normal",
    risk: str = "low",
    group: SupportGroup | None = None,
    created_days_ago: int = 5,
) -> Change:
    now = timezone.now()
    return Change.objects.create(
        number=n, title=f"Change {n}", kind=kind, risk=risk, group=group,
        status=Change.Status.CLOSED if closed_days_ago is not None else Change.Status.SCHEDULED,
        outcome=outcome, closed_at=None if closed_days_ago is None else now - timedelta(days=closed_days_ago),
        created_at=now - timedelta(days=created_days_ago),
    )  # fmt: skip


def test_change_success_rate_risk_and_failed_changes(
    admin_user: User, manager: User, l2: SupportGroup, requester: User, django_assert_max_num_queries
) -> None:
    ok = _change(1, closed_days_ago=1, outcome="successful")
    _change(2, closed_days_ago=2, outcome="successful", risk="high")
    failed = _change(3, closed_days_ago=3, outcome="failed", risk="high", kind="emergency")
    _change(4, closed_days_ago=4, outcome="cancelled")  # not in the rate
    _change(5, closed_days_ago=40, outcome="failed", created_days_ago=45)  # the previous period
    _change(6, closed_days_ago=None, kind="emergency")
    _change(7, closed_days_ago=2, outcome="rolled_back", group=l2)  # not the manager's group
    incident = make_ticket(requester, subject="Site down", kind="incident")
    ChangeTicket.objects.create(change=failed, ticket=incident, relation="caused")
    ChangeTicket.objects.create(change=ok, ticket=make_ticket(requester, subject="x"), relation="related")
    problem = Problem.objects.create(number=77, title="Leak")
    ChangeProblem.objects.create(change=failed, problem=problem, relation="caused")

    period = _period()
    scope = scope_for(admin_user, ReportFilters())
    with django_assert_max_num_queries(2):
        kpis = {k.key: k for k in changes.change_kpis(scope=scope, period=period)}
    assert kpis["changes_closed"].value == 4  # 1, 2, 3, 7
    assert kpis["change_success_rate"].value == 50.0  # 2 of 4
    assert kpis["changes_failed"].value == 2 and kpis["changes_failed"].previous == 1
    assert kpis["change_success_rate"].previous == 0.0
    assert kpis["emergency_share"].value == round(100 * 2 / 6, 1)  # 3 and 6 among 1-4, 6, 7

    by_risk = {row.key: row.cells for row in changes.changes_by_risk(scope=scope, period=period).rows}
    assert by_risk["high"] == [2, 1, 1] and by_risk["low"] == [4, 1, 1] and by_risk["critical"] == [0, 0, 0]

    with django_assert_max_num_queries(3):
        table = changes.failed_changes(scope=scope, period=period)
    rows = {row.key: row.cells for row in table.rows}
    assert set(rows) == {str(failed.pk), str(Change.objects.get(number=7).pk)}
    assert rows[str(failed.pk)][3:] == [1, "PRB-77"]

    mine = scope_for(manager, ReportFilters())
    assert {k.key: k.value for k in changes.change_kpis(scope=mine, period=period)}["changes_closed"] == 3


def test_problem_figures(admin_user: User, agent: User, requester: User, django_assert_max_num_queries) -> None:
    now = timezone.now()
    Problem.objects.create(number=1, title="A", created_at=now - timedelta(days=2))
    Problem.objects.create(
        number=2, title="B", status="known_error", workaround="w", created_at=now - timedelta(days=40)
    )
    Problem.objects.create(number=3, title="C", status="resolved", resolved_at=now - timedelta(days=1),
                           created_at=now - timedelta(days=50))  # fmt: skip
    linked = [make_ticket(requester, subject=f"VPN {n}", kind="incident") for n in range(2)]
    make_ticket(requester, subject="Other", kind="incident")
    make_ticket(requester, subject="A request", kind="request")  # not an incident: not counted
    for ticket in linked:
        ProblemIncident.objects.create(problem_id=Problem.objects.get(number=2).pk, ticket=ticket)
    scope = scope_for(admin_user, ReportFilters())
    with django_assert_max_num_queries(3):
        kpis = {k.key: k for k in problems.problem_kpis(scope=scope, period=_period())}
    assert kpis["problems_opened"].value == 1 and kpis["problems_opened"].previous == 2  # B and C
    assert kpis["problems_resolved"].value == 1
    assert kpis["known_errors_open"].value == 1
    assert kpis["incidents_with_problem_share"].value == round(100 * 2 / 3, 1)


def test_the_team_dashboard_shows_the_new_panels(client: Client, manager: User) -> None:
    _change(1, closed_days_ago=1, outcome="failed")
    client.force_login(manager)
    page = client.get(reverse("reports:team"), {"period": "30d"}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    for words in ("Change success rate", "Emergency changes", "Changes by risk", "Failed changes", "Open known errors"):
        assert words in html
    assert b"report-unavailable" not in page.content
