"""The page, the API and the exports agree: the same figures for the same period and filters,
and a figure's drill-down exported as CSV holds exactly the tickets it counts."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import SupportGroup, User
from palier.reports import dashboards
from palier.tickets import services as tickets
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
PARAMS = {"period": "custom", "since": "2026-05-01", "until": "2026-05-31"}


def _on(ticket: Ticket, when: datetime) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(created_at=when)
    ticket.refresh_from_db()
    return ticket


@pytest.fixture
def may(requester: User, agent: User, agent_l2: User, l2: SupportGroup) -> None:
    """Triage: three tickets created in May (one resolved), one in April; L2 (not Nina's): one in May."""
    for day in (4, 12, 20):
        _on(make_ticket(requester, subject=f"Imprimante {day}"), datetime(2026, 5, day, 9, tzinfo=UTC))
    _on(make_ticket(requester, subject="Avril"), datetime(2026, 4, 28, 9, tzinfo=UTC))
    _on(make_ticket(requester, group=l2, by=agent_l2, subject="L2"), datetime(2026, 5, 6, 9, tzinfo=UTC))
    first = Ticket.objects.get(subject="Imprimante 4")
    first = tickets.update_ticket(first, by=agent, changes={"assignee": agent}, expected_version=None)
    tickets.transition_ticket(first, to="resolved", by=agent, note="Remplacé le toner.")


def _panel(board: dashboards.Dashboard, path: str) -> dashboards.Panel:
    return next(p for p in board.panels if p.path == path)


def test_page_api_and_exports_agree(client: Client, may: None, manager: User) -> None:
    board = dashboards.build_dashboard(viewer=manager, params=PARAMS, zone=PARIS, personal=False)
    created = next(k for k in _panel(board, "flow.flow_kpis").result if k.key == "created")  # type: ignore[union-attr]
    assert created.value == 3  # by hand: the three triage tickets of May, not April's, not L2's
    groups = _panel(board, "flow.group_workload").result
    on_page = {row.key: row.cells for row in groups.rows}  # type: ignore[union-attr]

    client.force_login(manager)
    query = "&".join(f"{k}={v}" for k, v in PARAMS.items()) + "&tz=Europe/Paris"
    api = client.get(f"/api/v1/reports/group_workload?{query}").json()
    assert {row["key"]: row["cells"] for row in api["table"]["rows"]} == on_page
    kpis = client.get(f"/api/v1/reports/flow_kpis?{query}").json()
    assert next(k for k in kpis["kpis"] if k["key"] == "created")["value"] == 3

    exported = client.get(f"/api/v1/reports/group_workload?{query}&format=csv").content.decode().lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(exported)))[1:]
    assert {label: [float(c) for c in cells] for label, *cells in rows} == {
        row.label: [float(c) for c in row.cells]
        for row in groups.rows  # type: ignore[union-attr]
    }

    # the "created" figure's link opens the queue on exactly those tickets; exported, the same three
    card = next(c for k in _panel(board, "flow.flow_kpis").cards for c in [k] if c.key == "created")
    assert card.url is not None and card.url.startswith(reverse("agent:ticket-list"))
    export_url = card.url.replace(reverse("agent:ticket-list"), reverse("agent:ticket-export", args=["csv"]), 1)
    streamed = b"".join(client.get(export_url).streaming_content)  # type: ignore[attr-defined]
    lines = list(csv.reader(io.StringIO(streamed.decode().lstrip("\ufeff"))))[1:]
    subjects = sorted(line[2] for line in lines)
    assert subjects == ["Imprimante 12", "Imprimante 20", "Imprimante 4"]
