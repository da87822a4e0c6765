"""An agent works the queue on a 1440×900 laptop screen: at least 20 tickets above the fold, one
line each (long subjects cut, whole on hover), in French and in English; a filter from the
compact bar becomes a removable chip; ticking a box shows the bar of the selected tickets and a
shift-click selects the range; "comfortable" rows are taller and the choice is remembered.
Screenshots of both languages are saved for the docs when ``PALIER_SCREENSHOTS`` names a folder."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

SUBJECTS = [
    "L'imprimante du deuxième étage imprime des pages blanches depuis la mise à jour du pilote de ce matin",
    "VPN refusé en télétravail",
    "Écran noir au démarrage",
    "Demande d'accès au dossier partagé de la comptabilité pour la clôture trimestrielle",
]
ABOVE_THE_FOLD = """() => [...document.querySelectorAll('#queue-table tbody tr')]
  .filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length"""
ROW_HEIGHTS = "() => [...document.querySelectorAll('#queue-table tbody tr')].map(r => r.getBoundingClientRect().height)"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_dense_queue_with_chips_and_a_selection_bar(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    requester: User,
    agent: User,
) -> None:
    people.update_user(agent, by=agent, language=language)
    tickets = [
        make_ticket(requester, subject=f"{SUBJECTS[i % len(SUBJECTS)]} #{i}", impact="high" if i % 5 == 0 else "low")
        for i in range(30)
    ]
    for ticket in tickets[::3]:
        services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent})
    now = timezone.now()  # test builder: SLA due times set by hand, one breached, one at risk
    Ticket.objects.filter(pk=tickets[-1].pk).update(sla_due_at=now - timedelta(hours=2))
    Ticket.objects.filter(pk=tickets[-2].pk).update(sla_due_at=now + timedelta(minutes=20))

    page = login(agent.email, "pw-lea-123!")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url("/agent/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    rows = page.locator("#queue-table tbody tr")
    expect(rows).to_have_count(25)
    assert page.evaluate(ABOVE_THE_FOLD) >= 20
    heights = page.evaluate(ROW_HEIGHTS)
    assert max(heights) < 32 and max(heights) - min(heights) < 3  # one line each, long subjects too
    assert page.evaluate("() => document.querySelector('#queue-table thead tr').getBoundingClientRect().height") < 32
    newest = tickets[-1]
    subject = page.locator(f"#ticket-row-{newest.pk} .ticket-subject a")
    expect(subject).to_have_attribute("title", newest.subject)
    expect(page.locator(f"#ticket-row-{newest.pk} .sla-due.sla-breached .badge")).to_be_visible()
    expect(page.locator(f"#ticket-row-{tickets[-2].pk} .sla-due.sla-risk")).to_be_visible()
    # the keyboard contract: rows, their boxes and the text filter carry the attributes
    expect(page.locator(f"#ticket-row-{newest.pk}")).to_have_attribute("data-href", f"/agent/tickets/{newest.pk}/")
    expect(page.locator("[data-kb-row] input[data-kb-select]")).to_have_count(25)
    expect(page.locator("#queue-filters [data-kb-search]")).to_be_visible()
    if folder := os.environ.get("PALIER_SCREENSHOTS"):
        page.screenshot(path=str(Path(folder) / f"queue-{language}.png"))

    # the bar of the selected tickets appears with a selection only; shift-click selects a range
    bar = page.locator("#bulk-form")
    expect(bar).to_be_hidden()
    boxes = page.locator("#queue-table input[data-kb-select]")
    boxes.nth(2).click()
    expect(bar).to_be_visible()
    boxes.nth(6).click(modifiers=["Shift"])
    for i in range(2, 7):
        expect(boxes.nth(i)).to_be_checked()
    expect(boxes.nth(7)).not_to_be_checked()
    expect(page.locator("#bulk-count")).to_contain_text("5")
    if folder := os.environ.get("PALIER_SCREENSHOTS"):
        page.screenshot(path=str(Path(folder) / f"queue-selection-{language}.png"))
    for i in range(2, 7):
        boxes.nth(i).uncheck()
    expect(bar).to_be_hidden()

    # a filter of the bar becomes a chip; removing the chip removes the filter
    urgent = Ticket.objects.get(pk=tickets[0].pk).priority
    expected = min(25, Ticket.objects.filter(priority=urgent).count())
    page.locator(f"#queue-filters label[for=filter-priority-{urgent}]").click()
    with page.expect_navigation():
        page.locator("#queue-filters button[type=submit]").click()
    chip = page.locator("#queue-chips .queue-chip")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(f"P{urgent}")
    expect(rows).to_have_count(expected)
    with page.expect_navigation():
        chip.locator("a").click()
    expect(page.locator("#queue-chips .queue-chip")).to_have_count(0)
    expect(rows).to_have_count(25)

    # comfortable rows are taller, and the choice stays with the person
    compact = max(page.evaluate(ROW_HEIGHTS))
    with page.expect_navigation():
        page.locator(".queue-density button[value=comfortable]").click()
    assert min(page.evaluate(ROW_HEIGHTS)) > compact + 4
    agent.refresh_from_db()
    assert agent.queue_density == "comfortable"
