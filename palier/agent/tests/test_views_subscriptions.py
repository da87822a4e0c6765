"""Client tests for "My subscriptions": who reaches it, adding a summary or (administrators) an
export, refused filters and addresses, pausing, removing, and a constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people.models import SupportGroup, User
from palier.reports import services
from palier.reports.models import ReportSubscription

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
URL = "/agent/reports/subscriptions/"


def test_the_url() -> None:
    assert reverse("reports:subscriptions") == URL


@pytest.mark.parametrize("persona", ["requester", "agent"])
def test_requesters_and_agents_cannot_reach_it(client: Client, persona: str, request: pytest.FixtureRequest) -> None:
    client.force_login(request.getfixturevalue(persona))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"frequency": "weekly"}).status_code == 404
    assert not ReportSubscription.objects.exists()


def test_a_manager_subscribes_to_a_weekly_summary_of_their_group(
    client: Client, manager: User, triage: SupportGroup, l2: SupportGroup
) -> None:
    client.force_login(manager)
    page = client.get(URL, **EN).content.decode()
    assert "Report to export" not in page and "Send to" not in page  # exports are for administrators
    groups = page[page.index('name="group"') : page.index("</select>", page.index('name="group"'))]
    assert f'value="{triage.pk}"' in groups and f'value="{l2.pk}"' not in groups  # only their groups
    response = client.post(URL, {"frequency": "weekly", "group": triage.pk, "priority": ["1", "2"]})
    assert response.status_code == 302
    row = ReportSubscription.objects.get()
    assert (row.owner, row.kind, row.frequency) == (manager, "summary", "weekly")
    assert row.filters == {"group": triage.pk, "priority": [1, 2]}
    page = client.get(URL, **EN).content.decode()
    assert "Weekly, on Monday" in page and f"Group: {triage.name} · Priority: P1, P2" in page


def test_another_groups_summary_is_refused(client: Client, manager: User, l2: SupportGroup) -> None:
    client.force_login(manager)
    response = client.post(URL, {"frequency": "weekly", "group": l2.pk}, **EN)
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()  # not even offered
    assert not ReportSubscription.objects.exists()


def test_a_manager_cannot_post_an_export(client: Client, manager: User) -> None:
    client.force_login(manager)
    data = {"kind": "export", "frequency": "weekly", "metric": "backlog", "format": "csv", "recipients": "x@evil.test"}
    assert client.post(URL, data).status_code == 302  # the export fields are not on a manager's form
    assert ReportSubscription.objects.get().kind == "summary"


def test_an_administrator_schedules_an_export(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    data = {"kind": "export", "frequency": "monthly", "metric": "sla_breaches", "format": "xlsx"}
    response = client.post(URL, {**data, "recipients": "cio@acme.test, nope"}, **EN)
    assert response.status_code == 400
    assert "“nope” is not an email address." in response.content.decode()
    assert client.post(URL, {**data, "recipients": "cio@acme.test\nCFO@acme.test"}).status_code == 302
    row = ReportSubscription.objects.get()
    assert (row.kind, row.metric, row.format, row.recipients) == (
        "export", "sla_breaches", "xlsx", ["cio@acme.test", "cfo@acme.test"],
    )  # fmt: skip
    page = client.get(URL, **EN).content.decode()
    assert "SLA breaches (XLSX)" in page and "cio@acme.test, cfo@acme.test" in page


def test_pause_resume_and_remove_only_ones_own(client: Client, manager: User, admin_user: User) -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    mine = services.subscribe(by=manager, kind="summary", frequency="weekly", filters={}, now=now)
    theirs = services.subscribe(by=admin_user, kind="summary", frequency="weekly", filters={}, now=now)
    client.force_login(manager)
    assert f'data-subscription="{theirs.pk}"' not in client.get(URL).content.decode()
    for name in ("reports:subscription-active", "reports:subscription-delete"):
        assert client.post(reverse(name, args=[theirs.pk]), {"active": "0"}).status_code == 404
    assert client.post(reverse("reports:subscription-active", args=[mine.pk]), {"active": "0"}).status_code == 302
    mine.refresh_from_db()
    assert (mine.is_active, mine.next_run_at) == (False, None)
    assert "Paused" in client.get(URL, **EN).content.decode()
    client.post(reverse("reports:subscription-active", args=[mine.pk]), {"active": "1"})
    mine.refresh_from_db()
    assert mine.is_active and mine.next_run_at is not None
    assert client.post(reverse("reports:subscription-delete", args=[mine.pk])).status_code == 302
    assert list(ReportSubscription.objects.all()) == [theirs]


def test_an_administrator_sees_and_removes_everyones(client: Client, manager: User, admin_user: User) -> None:
    row = services.subscribe(by=manager, kind="summary", frequency="monthly", filters={})
    client.force_login(admin_user)
    page = client.get(URL, **EN).content.decode()
    assert f'data-subscription="{row.pk}"' in page and "Nina Manager" in page
    assert client.post(reverse("reports:subscription-delete", args=[row.pk])).status_code == 302
    assert not ReportSubscription.objects.exists()


def test_the_number_of_queries_does_not_grow_with_the_rows(client: Client, admin_user: User, manager: User) -> None:
    services.subscribe(by=manager, kind="summary", frequency="weekly", filters={})
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as one:
        assert client.get(URL).status_code == 200
    for frequency in ("weekly", "monthly", "weekly"):
        services.subscribe(by=manager, kind="summary", frequency=frequency, filters={})
        services.subscribe(
            by=admin_user, kind="export", frequency=frequency, filters={}, metric="backlog", format="csv",
            recipients="ops@acme.test",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as seven:
        assert client.get(URL).status_code == 200
    assert len(seven) == len(one)


def test_the_dashboard_links_the_page_for_managers_only(client: Client, manager: User, agent: User) -> None:
    client.force_login(manager)
    assert URL in client.get(reverse("reports:team")).content.decode()
    client.force_login(agent)
    assert URL not in client.get(reverse("reports:personal")).content.decode()
