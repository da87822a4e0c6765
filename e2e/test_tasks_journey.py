"""An agent adds two tasks to a ticket, one of them mandatory, tries to resolve the ticket and is
told why not, finishes the mandatory task, and then resolves it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket
from palier.worklist.models import TicketTask

# a browser journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent


def _resolve(page: Page) -> None:
    page.locator("#edit-status summary").click()
    page.locator("#edit-status select[name=status]").select_option("resolved")
    with page.expect_response(lambda r: r.url.endswith("/status/") and r.request.method == "POST"):
        page.locator("#edit-status button[type=submit]").click()


def test_an_agent_cannot_resolve_until_the_mandatory_task_is_done(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    page: Page,
    requester: User,
    agent: User,
) -> None:
    people.update_user(agent, by=agent, language="en")
    ticket = make_ticket(requester, subject="Printer jam")
    desk = login(agent.email, "pw-lea-123!", target=page)
    desk.goto(url(f"/agent/tickets/{ticket.pk}/"))

    add = desk.locator("#task-add")
    add.locator("input[name=title]").fill("Order a toner")
    add.locator("select[name=assignee]").select_option(str(agent.pk))
    add.locator("#task-add-button").click()
    expect(desk.locator("#task-list")).to_contain_text("Order a toner")
    add = desk.locator("#task-add")
    add.locator("input[name=title]").fill("Check the warranty")
    add.locator("input[name=mandatory]").check()
    add.locator("#task-add-button").click()
    expect(desk.locator("#task-list")).to_contain_text("Check the warranty")
    expect(desk.locator("#tasks-blocking")).to_contain_text("1 mandatory task must be done")

    _resolve(desk)
    expect(desk.locator("#panel")).to_contain_text("cannot be resolved while a mandatory task is open")
    assert Ticket.objects.get(pk=ticket.pk).status != "resolved"

    desk.reload()
    mandatory = TicketTask.objects.get(mandatory=True)
    desk.locator(f'[data-task="{mandatory.pk}"] button[type=submit]').click()
    expect(desk.locator("#tasks-progress")).to_have_text("1 of 2 done")
    expect(desk.locator("#tasks-blocking")).to_have_count(0)

    _resolve(desk)
    expect(desk.locator("#panel dd").first).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"
    assert TicketTask.objects.get(title="Order a toner").status == "open"  # an optional task never blocks
