"""The reports API over a test-only metric module: listing, each result shape, periods and
filters, table downloads, bad input as problem+json, and nothing out of the caller's reach."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people.models import SupportGroup, User
from palier.reports import registry
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
SAMPLE = "palier.reports.tests.sample_metrics"


@pytest.fixture(autouse=True)
def _sample_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    # the sample module stands in for the real families
    monkeypatch.setattr(registry, "MODULES", (SAMPLE,))


def _at(ticket: Ticket, when: datetime) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(created_at=when)


def _may(requester: User, l2: SupportGroup, agent_l2: User) -> None:
    """Three tickets in the triage group: 2 on 5 May 2026 (Paris), 1 on 20 April; one in L2 on 5 May."""
    for day in (5, 5):
        _at(make_ticket(requester), datetime(2026, 5, day, 10, tzinfo=UTC))
    _at(make_ticket(requester), datetime(2026, 4, 20, 10, tzinfo=UTC))
    _at(make_ticket(requester, group=l2, by=agent_l2), datetime(2026, 5, 5, 10, tzinfo=UTC))


MAY = "?period=custom&since=2026-05-01&until=2026-05-31&tz=Europe/Paris"


def test_the_metrics_are_listed(client_for: Callable[..., ApiClient], manager: User) -> None:
    body = client_for(manager).call("GET", "/reports/").json()
    assert [m["name"] for m in body] == ["created_kpis", "created_series", "by_status", "split", "viewer_kpi"]
    assert {m["name"]: m["options"] for m in body}["split"] == ["by"]


def test_kpis_series_and_tables_for_a_managers_groups(
    client_for: Callable[..., ApiClient], manager: User, requester: User, l2: SupportGroup, agent_l2: User
) -> None:
    _may(requester, l2, agent_l2)
    api = client_for(manager)
    kpis = api.call("GET", f"/reports/created_kpis{MAY}").json()
    # Nina manages the triage group only: 2 tickets in May, 1 in the 31 days before (20 April)
    assert kpis["kind"] == "kpis" and kpis["period"] == {
        "first": "2026-05-01",
        "last": "2026-05-31",
        "zone": "Europe/Paris",
        "bucket": "day",
    }
    assert kpis["kpis"] == [
        {"key": "created", "value": 2.0, "previous": 1.0, "unit": "count", "better": "up", "direction": "up"}
    ]
    series = api.call("GET", f"/reports/created_series{MAY}").json()
    points = series["series"][0]["points"]
    assert len(points) == 31 and points[4] == {"day": "2026-05-05", "value": 2.0}
    table = api.call("GET", f"/reports/by_status{MAY}").json()
    assert table["kind"] == "table" and table["table"]["rows"][0]["cells"] == [3]
    assert api.call("GET", f"/reports/viewer_kpi{MAY}").json()["kpis"][0]["value"] == 31


def test_tables_download_as_csv_and_xlsx(
    client_for: Callable[..., ApiClient], admin_user: User, requester: User
) -> None:
    make_ticket(requester)
    api = client_for(admin_user)
    response = api.call("GET", "/reports/by_status?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode().lstrip("\ufeff"))))
    assert rows == [["Nom", "Count"], ["'=new", "1"]]  # French by default; a label starting with = is neutralised
    xlsx = api.call("GET", "/reports/by_status?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert_problem(api.call("GET", "/reports/created_kpis?format=csv"), 422, "format")
    assert_problem(api.call("GET", "/reports/by_status?format=pdf"), 422, "format")


def test_options_are_required_and_passed(
    client_for: Callable[..., ApiClient], admin_user: User, requester: User
) -> None:
    make_ticket(requester)
    api = client_for(admin_user)
    assert_problem(api.call("GET", "/reports/split"), 422, "by")
    assert api.call("GET", "/reports/split?by=kind").json()["table"]["rows"][0]["key"] == "incident"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?group=abc", "group"),
        ("?channel=fax", "channel"),
        ("?period=forever", "period"),
        ("?period=custom&since=2026-05-02&until=2026-05-01", "until"),
        ("?period=custom&since=yesterday&until=2026-05-01", "since"),
        ("?tz=Mars/Olympus", "tz"),
    ],
)
def test_bad_filters_are_problems_naming_the_field(
    client_for: Callable[..., ApiClient], manager: User, query: str, field: str
) -> None:
    assert_problem(client_for(manager).call("GET", f"/reports/created_kpis{query}"), 422, field)


def test_nothing_out_of_reach(
    client_for: Callable[..., ApiClient], manager: User, agent: User, requester: User, l2: SupportGroup
) -> None:
    # another group's figures: refused like an unknown group (nothing says it exists)
    other = client_for(manager).call("GET", f"/reports/created_kpis?group={l2.pk}")
    unknown = client_for(manager).call("GET", "/reports/created_kpis?group=999999")
    assert assert_problem(other, 422, "group")["errors"]["group"] == [
        m.replace("999999", str(l2.pk)) for m in assert_problem(unknown, 422, "group")["errors"]["group"]
    ]
    assert_problem(client_for(agent).call("GET", "/reports/created_kpis"), 403)  # the team figures
    assert client_for(agent).call("GET", "/reports/created_kpis?personal=true").status_code == 200
    assert_problem(client_for(requester).call("GET", "/reports/created_kpis?personal=true"), 403)
    assert_problem(client_for(manager).call("GET", "/reports/no_such_metric"), 404)
    assert client_for(None).call("GET", "/reports/").status_code == 401


def test_the_openapi_document_describes_the_reports(client_for: Callable[..., ApiClient], manager: User) -> None:
    paths: dict[str, Any] = client_for(manager).call("GET", "/openapi.json").json()["paths"]
    assert "/api/v1/reports/" in paths and "/api/v1/reports/{name}" in paths
