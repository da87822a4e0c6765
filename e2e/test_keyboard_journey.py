"""A requester who uses only the keyboard asks for help: skip link, Tab / Shift+Tab, typing,
arrow keys in the radio groups, Enter. No clicks and no fills after signing in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.people.models import User
from palier.tickets.models import Level, Ticket

# only strings the French catalog already translates (it is being completed elsewhere)
TEXT = {
    "fr": {"skip": "Aller au contenu", "new": "Nouveau"},
    "en": {"skip": "Skip to content", "new": "New"},
}


def _focused(page: Page) -> str:
    """A description of the focused element: ``tag#id[name=…]`` (reading only, no interaction)."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : '')"
        " + (e.getAttribute('href') ? '[href=' + e.getAttribute('href') + ']' : ''); }"
    )


def _tab_to(page: Page, selector: str, *, limit: int = 40, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until the focus is on ``selector``; fail if it never gets there."""
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{key} never reached {selector}; the focus is on {_focused(page)}")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_keyboard_only_submission(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    requester: User,
) -> None:
    # no language on the account: the browser's language decides
    page = login(requester.email, "pw-alice-123!", target=open_page(locale=language))
    page.goto(url("/portal/"))
    expect(page.locator("html")).to_have_attribute("lang", language)

    # the first Tab reaches the skip link, which jumps over the navigation
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text(TEXT[language]["skip"])
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    _tab_to(page, "main a[href$='/portal/new/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(url("/portal/new/"))

    _tab_to(page, "#id_subject")
    page.keyboard.type("Le Wi-Fi coupe")
    _tab_to(page, "#id_description")
    page.keyboard.type("La connexion tombe toutes les dix minutes depuis ce matin.")
    # back to the subject to complete it
    _tab_to(page, "#id_subject", key="Shift+Tab")
    page.keyboard.press("End")
    page.keyboard.type(" en salle de réunion")
    _tab_to(page, "input[name=impact]")
    page.keyboard.press("ArrowDown")  # "Only me" -> "Several people or my team"
    expect(page.locator("input[name=impact][value=medium]")).to_be_checked()
    _tab_to(page, "input[name=urgency]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # -> "Right now: work is blocked"
    expect(page.locator("input[name=urgency][value=high]")).to_be_checked()
    _tab_to(page, "main form button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    ticket = Ticket.objects.get(requester=requester)
    assert ticket.subject == "Le Wi-Fi coupe en salle de réunion"
    assert ticket.description == "La connexion tombe toutes les dix minutes depuis ce matin."
    assert (ticket.impact, ticket.urgency) == (Level.MEDIUM, Level.HIGH)
    expect(page).to_have_url(url(f"/portal/requests/{ticket.pk}/"))
    expect(page.locator("h1")).to_contain_text(ticket.reference)
    expect(page.locator("#status-title")).to_contain_text(TEXT[language]["new"])
