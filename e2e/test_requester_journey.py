"""A requester asks for help with a screenshot and finds the request in "My requests"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Ticket

TEXT = {
    "fr": {"new": "Nouveau", "lang": "fr"},
    "en": {"new": "New", "lang": "en"},
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_requester_submits_with_attachment_and_sees_it_in_my_requests(
    language: str, transactional_db: None, live_server: object, login, tmp_path
) -> None:
    people.create_user(
        email="claire@acme.test", full_name="Claire Dubois", password="pw-claire-123!", language=language
    )
    shot = tmp_path / "ecran.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)

    page: Page = login("claire@acme.test", "pw-claire-123!")
    page.goto(f"{live_server.url}/portal/new/")  # type: ignore[attr-defined]
    expect(page.locator("html")).to_have_attribute("lang", TEXT[language]["lang"])
    page.locator("input[name=subject]").fill("Imprimante bloquée au 2e étage")
    page.locator("textarea[name=description]").fill("Bourrage papier à chaque impression.")
    page.locator("input[name=impact][value=medium]").check()
    page.locator("input[name=attachments]").set_input_files(str(shot))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    ticket = Ticket.objects.get(subject="Imprimante bloquée au 2e étage")
    assert ticket.requester == User.objects.get(email="claire@acme.test")
    assert ticket.attachments.get().filename == "ecran.png"
    expect(page.get_by_role("link", name="ecran.png").first).to_be_visible()

    page.goto(f"{live_server.url}/portal/requests/")  # type: ignore[attr-defined]
    row = page.locator("tr", has_text="Imprimante bloquée au 2e étage")
    expect(row).to_be_visible()
    expect(row).to_contain_text(ticket.reference)
    expect(row).to_contain_text(TEXT[language]["new"])
