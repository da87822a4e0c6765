"""Reports: a manager opens the team dashboard from the navigation, picks "this month" and the
phone channel, reads the KPI cards and the created/resolved chart with its table view, follows the
"tickets created" figure to the agent queue, which lists exactly the tickets behind it, and
exports them as CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

TEXT = {
    "fr": {
        "nav": "Tableau de bord",
        "month": "Ce mois-ci",
        "created": "Tickets créés",
        "table": "Afficher les chiffres sous forme de tableau",
        "export": "Exporter en CSV",
    },
    "en": {
        "nav": "Dashboard",
        "month": "This month",
        "created": "Tickets created",
        "table": "Show the numbers as a table",
        "export": "Export CSV",
    },
}


def _desk(requester: User, agent: User, l2: SupportGroup) -> list[Ticket]:
    """Two phone tickets of the manager's group this month: the figure. Around them, what the
    filters must leave out: a web ticket, a phone ticket of a group she does not manage, and a
    phone ticket of her group from long before the period."""
    behind = [
        make_ticket(requester, by=agent, subject="Téléphone sans tonalité", channel=Ticket.Channel.PHONE),
        make_ticket(requester, by=agent, subject="Casque qui grésille", channel=Ticket.Channel.PHONE),
    ]
    make_ticket(requester, subject="Imprimante en panne au 2e étage")
    make_ticket(requester, by=agent, subject="Lien réseau coupé", channel=Ticket.Channel.PHONE, group=l2)
    old = make_ticket(requester, by=agent, subject="Ancien appel", channel=Ticket.Channel.PHONE)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=70))
    return behind


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_manager_follows_a_figure_to_the_queue_and_exports_it(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    page: Page,
    requester: User,
    agent: User,
    manager: User,
    l2: SupportGroup,
) -> None:
    text = TEXT[language]
    people.update_user(manager, by=manager, language=language)
    behind = _desk(requester, agent, l2)
    references = sorted(t.reference for t in behind)

    desk = login(manager.email, "pw-nina-123!", target=page)
    desk.goto(url("/agent/"))
    nav = desk.locator("nav a[href='/agent/reports/']")
    expect(nav).to_have_text(text["nav"])
    desk.locator("#nav-team").click()  # the dashboard is in the bar's Team menu
    nav.click()
    expect(desk.locator("h1")).to_have_text(text["nav"])
    expect(desk.locator("#panel-flow-flow-kpis")).to_be_visible()

    # this month, phone calls only (the form reloads the panels with htmx and keeps them in the URL)
    desk.locator("#report-filters select[name=period]").select_option(label=text["month"])
    desk.locator("#report-filters select[name=channel]").select_option("phone")
    desk.locator("#report-filters button[type=submit]").click()
    expect(desk).to_have_url(re.compile(r"period=this_month.*channel=phone"))

    # the KPI cards
    created = desk.locator("#kpi-flow-flow-kpis-created")
    expect(created.locator(".kpi-label")).to_have_text(text["created"])
    expect(created.locator(".kpi-value")).to_have_text("2")
    # the backlog is what is open now, whatever the period: the old call of her group counts there
    expect(desk.locator("#kpi-flow-backlog-kpis-open .kpi-value")).to_have_text("3")

    # the created/resolved chart, drawn as SVG, and its table view with the same numbers
    chart = desk.locator("#panel-flow-created-resolved")
    expect(chart.locator(".report-chart svg")).to_have_count(1)
    table_view = chart.locator("details.report-table-view")
    expect(table_view.locator("table")).not_to_be_visible()
    table_view.locator("summary").click()
    expect(table_view.locator("summary")).to_have_text(text["table"])
    expect(table_view.locator("table")).to_be_visible()
    assert "2" in table_view.locator("tbody td").all_inner_texts()

    # the figure's link: the agent queue with the same filters, exactly those two tickets
    with desk.expect_navigation():
        created.locator(".kpi-value a").click()
    assert "/agent/" in desk.url and "channel=phone" in desk.url
    rows = desk.locator("#queue-table tbody tr")
    expect(rows).to_have_count(2)
    for ticket in behind:
        expect(desk.locator("#queue-table")).to_contain_text(ticket.subject)

    # "Export CSV" downloads the same tickets
    export = desk.locator("#export-csv")
    expect(export).to_have_text(text["export"])
    desk.locator("details.queue-export > summary").click()  # the queue's Export menu
    with desk.expect_download() as download:
        export.click()
    path = download.value.path()
    content = path.read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(content)))
    header, body = lines[0], lines[1:]
    assert len(body) == 2
    column = next(i for i, row in enumerate(zip(*body, strict=True)) if set(row) == set(references))
    assert sorted(row[column] for row in body) == references
    assert header[column]
