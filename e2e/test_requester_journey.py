"""A requester asks for help with a screenshot and finds the request in "My requests"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Level, Ticket

# only strings the French catalog already translates (it is being completed elsewhere)
TEXT = {
    "fr": {"new": "Nouveau", "send": "Envoyer ma demande", "my_requests": "Mes demandes"},
    "en": {"new": "New", "send": "Send my request", "my_requests": "My requests"},
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_requester_submits_with_attachment_and_sees_it_in_my_requests(
    language: str, transactional_db: None, url: Callable[[str], str], login: Callable[..., Page], tmp_path: Path
) -> None:
    text = TEXT[language]
    people.create_user(
        email="claire@acme.test", full_name="Claire Dubois", password="pw-claire-123!", language=language
    )
    shot = tmp_path / "ecran.png"
    shot.write_bytes(  # a real 1×1 image (the type is read from the bytes by libmagic)
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )

    page = login("claire@acme.test", "pw-claire-123!")
    page.goto(url("/portal/new/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("#id_subject").fill("Imprimante bloquée au 2e étage")
    page.locator("#id_description").fill("Bourrage papier à chaque impression.")
    page.locator("input[name=impact][value=medium]").check()
    page.locator("#id_attachments").set_input_files(str(shot))
    with page.expect_navigation():
        page.get_by_role("button", name=text["send"]).click()

    ticket = Ticket.objects.get(subject="Imprimante bloquée au 2e étage")
    assert ticket.requester == User.objects.get(email="claire@acme.test")
    assert ticket.impact == Level.MEDIUM
    assert ticket.attachments.get().filename == "ecran.png"
    expect(page.locator("h1")).to_contain_text(ticket.reference)
    expect(page.get_by_role("link", name="ecran.png").first).to_be_visible()

    # "My requests" is a list of cards: subject link, status badge, reference
    page.locator("header").get_by_role("link", name=text["my_requests"], exact=True).click()
    expect(page).to_have_url(url("/portal/requests/"))
    card = page.locator("#results li", has_text="Imprimante bloquée au 2e étage")
    expect(card).to_have_count(1)
    expect(card).to_contain_text(ticket.reference)
    expect(card.locator(".badge")).to_have_text(text["new"])
    card.get_by_role("link", name="Imprimante bloquée au 2e étage").click()
    expect(page).to_have_url(url(f"/portal/requests/{ticket.pk}/"))
    expect(page.get_by_role("link", name="ecran.png").first).to_be_visible()
