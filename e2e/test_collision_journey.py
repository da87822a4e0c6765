"""Two agents on the same ticket, each in a browser context of their own: the second one sees
that the first is viewing it; when the first replies while the second is writing, the second's
"Send" shows what changed and a "Send anyway" button, which then sends the message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

# only strings the French catalog already translates (it is being completed elsewhere); the
# English-only ones are checked in English
TEXT = {
    "fr": {"sent": "Réponse envoyée.", "viewing": None, "send": "Envoyer", "send_anyway": None},
    "en": {
        "sent": "Reply sent.",
        "viewing": "Léa L1 is also viewing this ticket.",
        "send": "Send",
        "send_anyway": "Send anyway",
    },
}
FIRST = "J'ai relancé le service d'impression, pouvez-vous réessayer ?"
SECOND = "Avez-vous essayé une autre imprimante du même étage ?"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_second_agent_is_warned_of_a_reply_sent_while_writing(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    page: Page,
    requester: User,
    agent: User,
    manager: User,
) -> None:
    text = TEXT[language]
    for user in (agent, manager):
        people.update_user(user, by=user, language=language)
    ticket = make_ticket(requester)
    ticket_url = url(f"/agent/tickets/{ticket.pk}/")

    # agent A (Léa) opens the ticket: the page's first presence poll records her
    first = login(agent.email, "pw-lea-123!", target=page)
    with first.expect_response(lambda r: r.url.endswith("/presence/") and r.ok):
        first.goto(ticket_url)
    # agent B (Nina) opens it too and is told Léa is there
    second = login(manager.email, "pw-nina-123!", target=open_page())
    second.goto(ticket_url)
    expect(second.locator("html")).to_have_attribute("lang", language)
    viewers = second.locator('#presence [data-presence="viewers"]')
    expect(viewers).to_contain_text(agent.full_name)
    if text["viewing"]:
        expect(viewers).to_have_text(text["viewing"])

    # B starts writing; meanwhile A replies
    second.locator("#reply-form textarea[name=body]").fill(SECOND)
    first.locator("#reply-form textarea[name=body]").fill(FIRST)
    first.locator("#reply-send").click()
    expect(first.locator("#timeline")).to_contain_text(FIRST)
    expect(first.locator("#messages")).to_contain_text(text["sent"])

    # B's send is held back: what changed is shown, the message is kept, "Send anyway" is offered
    expect(second.locator("#reply-send")).to_have_text(text["send"])
    second.locator("#reply-send").click()
    warning = second.locator("#stale-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(agent.full_name)
    expect(warning).to_contain_text(FIRST)
    expect(second.locator("#reply-form textarea[name=body]")).to_have_value(SECOND)
    if text["send_anyway"]:
        expect(second.locator("#reply-send")).to_have_text(text["send_anyway"])
    expect(second.locator("#reply-send")).not_to_have_text(text["send"])
    assert list(ticket.comments.values_list("body", flat=True)) == [FIRST]

    second.locator("#reply-send").click()
    expect(second.locator("#stale-warning")).to_have_count(0)
    expect(second.locator("#messages")).to_contain_text(text["sent"])
    expect(second.locator("#timeline")).to_contain_text(SECOND)
    expect(second.locator("#reply-send")).to_have_text(text["send"])
    assert list(ticket.comments.order_by("pk").values_list("body", "author")) == [
        (FIRST, agent.pk),
        (SECOND, manager.pk),
    ]
