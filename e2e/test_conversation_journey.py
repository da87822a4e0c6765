"""The whole conversation, with two people in two browser contexts: an agent takes the ticket,
replies publicly and adds an internal note; the requester sees the reply (never the note) and
answers; the agent resolves the ticket; the requester reopens it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

# only strings the French catalog already translates (it is being completed elsewhere)
TEXT = {
    "fr": {
        "new": "Nouveau",
        "assigned": "Assigné",
        "resolved": "Résolu",
        "in_progress": "En cours",
        "yours": "Le ticket vous est assigné.",
        "public": "Réponse publique (visible par le demandeur)",
        "internal": "Note interne (techniciens uniquement)",
        "send": "Envoyer",
        "reopen": "Rouvrir : ce n'est pas résolu",
    },
    "en": {
        "new": "New",
        "assigned": "Assigned",
        "resolved": "Resolved",
        "in_progress": "In progress",
        "yours": "The ticket is yours.",
        "public": "Public reply (the requester sees it)",
        "internal": "Internal note (agents only)",
        "send": "Send",
        "reopen": "Reopen: it is not solved",
    },
}
REPLY = "Bonjour Alice, pouvez-vous redémarrer le poste ?"
NOTE = "NOTE-INTERNE-7f3a : le disque remonte des erreurs SMART"
ANSWER = "Redémarré, mais l'erreur revient au démarrage."


def _status_shown(page: Page) -> str:
    """The status the agent's side panel shows (the first value, without its inline edit)."""
    return page.locator("#panel dd").first.evaluate("dd => dd.firstChild.textContent.trim()")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_agent_and_requester_talk_until_resolved_then_reopened(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    page: Page,
    requester: User,
    agent: User,
) -> None:
    text = TEXT[language]
    for user in (requester, agent):
        people.update_user(user, by=user, language=language)
    ticket = make_ticket(requester, subject="Écran bleu au démarrage")

    # the agent takes the ticket, replies publicly and adds an internal note
    desk = login(agent.email, "pw-lea-123!", target=page)
    desk.goto(url(f"/agent/tickets/{ticket.pk}/"))
    expect(desk.locator("html")).to_have_attribute("lang", language)
    desk.locator("#take-it").click()
    expect(desk.locator("#messages")).to_contain_text(text["yours"])
    expect(desk.locator("#take-it")).to_have_count(0)
    expect(desk.locator("#panel")).to_contain_text(agent.full_name)
    expect(desk.locator("#panel")).to_contain_text(text["assigned"])

    reply_form = desk.locator("#reply-form")
    expect(reply_form.get_by_label(text["public"])).to_be_checked()
    reply_form.locator("textarea[name=body]").fill(REPLY)
    desk.locator("#reply-send").click()
    expect(desk.locator("#timeline")).to_contain_text(REPLY)
    expect(desk.locator("#reply-form textarea[name=body]")).to_have_value("")

    desk.locator("#reply-form").get_by_label(text["internal"]).check()
    desk.locator("#reply-form textarea[name=body]").fill(NOTE)
    desk.locator("#reply-send").click()
    expect(desk.locator("#timeline")).to_contain_text(NOTE)
    assert list(ticket.comments.order_by("pk").values_list("body", "is_internal")) == [(REPLY, False), (NOTE, True)]

    # the requester, in a browser of her own, sees the reply and never the note, and answers
    home = login(requester.email, "pw-alice-123!", target=open_page())
    home.goto(url(f"/portal/requests/{ticket.pk}/"))
    expect(home.locator("html")).to_have_attribute("lang", language)
    expect(home.locator("main")).to_contain_text(REPLY)
    assert "NOTE-INTERNE-7f3a" not in home.content()
    home.locator("#id_body").fill(ANSWER)
    with home.expect_navigation():
        home.get_by_role("button", name=text["send"], exact=True).click()
    expect(home.locator("main")).to_contain_text(ANSWER)
    assert "NOTE-INTERNE-7f3a" not in home.content()

    # the agent sees the answer and resolves the ticket from the side panel
    desk.reload()
    expect(desk.locator("#timeline")).to_contain_text(ANSWER)
    desk.locator("#edit-status > summary").click()
    desk.locator("#edit-status-status").select_option("resolved")
    desk.locator("#edit-status-note").fill("Disque remplacé.")
    desk.locator("#edit-status button[type=submit]").click()
    expect(desk.locator("#panel .alert-success")).to_be_visible()
    assert _status_shown(desk) == text["resolved"]
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED

    # the requester sees it solved, and reopens it: it is not solved
    home.reload()
    expect(home.locator("#status-title")).to_contain_text(text["resolved"])
    with home.expect_navigation():
        home.get_by_role("button", name=text["reopen"]).click()
    expect(home.locator("#status-title")).to_contain_text(text["in_progress"])
    assert "NOTE-INTERNE-7f3a" not in home.content()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS

    desk.reload()
    assert _status_shown(desk) == text["in_progress"]
