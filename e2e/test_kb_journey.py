"""Deflection: a requester starts a new request, sees a knowledge-base article that answers it
while typing, and marks it as the solution. No ticket is created; the deflection is recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.kb.models import Deflection
from palier.kb.tests.builders import make_article
from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Ticket

QUESTION = {
    "fr": ("Mon imprimante bloque", "Le papier reste coincé dans les imprimantes du 2e étage"),
    "en": ("My printer is stuck", "Paper jams in the printers on the second floor"),
}
TITLE = {"fr": "Débloquer une imprimante", "en": "Clear a printer jam"}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_requester_finds_an_article_while_typing_and_sends_no_request(
    language: str, transactional_db: None, url: Callable[[str], str], login: Callable[..., Page]
) -> None:
    author = people.create_user(
        email="kb@desk.test", full_name="Kim Author", role=User.Role.AGENT, password="pw-kb-1234!"
    )
    article = make_article(
        author,
        fr=(TITLE["fr"], "Ouvrez le **bac 2** et retirez la feuille coincée."),
        en=(TITLE["en"], "Open **tray 2** and pull out the stuck sheet."),
    )
    people.create_user(
        email="claire@acme.test", full_name="Claire Dubois", password="pw-claire-123!", language=language
    )

    page = login("claire@acme.test", "pw-claire-123!")
    page.goto(url("/portal/new/"))
    subject, description = QUESTION[language]
    page.locator("#id_subject").press_sequentially(subject, delay=20)
    page.locator("#id_description").press_sequentially(description, delay=5)

    suggestion = page.locator(".kb-suggestion", has_text=TITLE[language])
    expect(suggestion).to_have_count(1)
    expect(suggestion.locator("mark").first).to_be_visible()
    suggestion.locator("button").click()

    expect(page.locator("#kb-deflected")).to_be_visible()
    expect(page.locator("#id_subject")).to_have_count(0)  # the form is gone: nothing left to send
    deflection = Deflection.objects.get()
    assert deflection.article == article
    assert subject in deflection.query
    assert not Ticket.objects.exists()

    page.locator("#kb-deflected a").click()
    expect(page.locator("#kb-deflected")).to_have_count(0)
    assert not Ticket.objects.exists()
