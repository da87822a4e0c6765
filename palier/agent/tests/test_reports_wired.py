"""The dashboards with the real metrics (the page tests use fakes): every panel of the team
dashboard and of "My figures" computes on a desk with tickets, replies, a resolution, a survey
answer and logged time, in both languages, without a panel left "unavailable"."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.people import services as people
from palier.people.models import User
from palier.reports import dashboards
from palier.tickets import services as tickets
from palier.tickets.tests.builders import make_ticket
from palier.timelog import services as timelog


@pytest.fixture
def desk(requester: User, agent: User) -> None:
    for n in range(3):
        ticket = make_ticket(requester, subject=f"VPN {n}")
        ticket = tickets.update_ticket(ticket, by=agent, changes={"assignee": agent}, expected_version=None)
        tickets.comment_on_ticket(ticket, by=agent, body="On regarde.")
        timelog.log_time(ticket, by=agent, minutes=15 + n, note="diagnostic")
    ticket.refresh_from_db()
    tickets.transition_ticket(ticket, to="resolved", by=agent, note="Résolu.")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_team_panel_computes(client: Client, desk: None, manager: User, admin_user: User, language: str) -> None:
    for viewer in (manager, admin_user):
        people.update_user(viewer, by=viewer, language=language)
        client.force_login(viewer)
        page = client.get(reverse("reports:team"), {"period": "30d"})
        assert page.status_code == 200
        assert b"report-unavailable" not in page.content, viewer.email


def test_every_personal_panel_computes(client: Client, desk: None, agent: User) -> None:
    client.force_login(agent)
    page = client.get(reverse("reports:personal"), {"period": "7d"})
    assert page.status_code == 200 and b"report-unavailable" not in page.content


def test_every_panel_names_a_metric_that_exists() -> None:
    for spec in (*dashboards.TEAM_PANELS, *dashboards.PERSONAL_PANELS):
        assert callable(dashboards.metric(spec.path)), spec.path


def test_every_table_downloads_as_csv_and_xlsx_with_the_pages_filters(
    client: Client, desk: None, manager: User
) -> None:
    client.force_login(manager)
    page = client.get(reverse("reports:team"), {"period": "30d"})
    board = page.context["board"]
    tables = [panel for panel in board.panels if panel.export]
    assert {p.export for p in tables} >= {"backlog", "group_workload", "cost-by-level", "csat_distribution"}
    html = page.content.decode()
    for panel in tables:
        for fmt, kind in (("csv", "text/csv"), ("xlsx", "spreadsheetml")):
            url = f"{reverse('api:get_metric', args=[panel.export])}?{page.context['export_query']}&format={fmt}"
            assert url.replace("&", "&amp;") in html
            response = client.get(url)
            assert response.status_code == 200 and kind in response["Content-Type"], (panel.export, fmt)
