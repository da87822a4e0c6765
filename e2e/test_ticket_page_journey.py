"""An agent on a ticket with a long conversation: the older entries are folded so the reply box
is near, a half-written reply is kept by the server while they type and comes back after they
leave the page, and sending the reply forgets the draft."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import ReplyDraft
from palier.tickets.tests.builders import make_ticket

DRAFT = "Bonjour, je regarde votre imprimante et je reviens vers vous"


def test_folded_history_and_a_draft_that_survives_leaving_the_page(
    transactional_db: None, url: Callable[[str], str], login: Callable[..., Page], requester: User, agent: User
) -> None:
    ticket = make_ticket(requester, subject="Imprimante du 3e étage")
    for i in range(14):
        services.comment_on_ticket(ticket, by=requester if i % 2 else agent, body=f"échange numéro {i:02d}")
    page = login(agent.email, "pw-lea-123!")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(url(f"/agent/tickets/{ticket.pk}/"))

    # the first exchanges are folded away, the last ones shown; the reply box is one link away
    timeline = page.locator("#timeline")
    expect(timeline.get_by_text("échange numéro 00")).to_be_hidden()
    expect(timeline.get_by_text("échange numéro 13")).to_be_visible()
    page.locator("#jump-reply").click()
    body = page.locator("#reply-form textarea[name=body]")
    expect(body).to_be_in_viewport()
    page.locator("#timeline-older > summary").click()
    expect(timeline.get_by_text("échange numéro 00")).to_be_visible()

    # typing saves a draft on the server (after a short pause)
    with page.expect_response(lambda r: r.url.endswith("/draft/") and r.ok):
        body.fill(DRAFT)
    expect(page.locator("#draft-status [data-draft-discard]")).to_be_visible()
    assert ReplyDraft.objects.get(ticket=ticket, user=agent).body == DRAFT

    # leaving the page and coming back restores it
    page.goto(url("/agent/"))
    page.goto(url(f"/agent/tickets/{ticket.pk}/"))
    expect(page.locator("#reply-form textarea[name=body]")).to_have_value(DRAFT)

    # "internal note" switches the box to a note and keeps the text
    page.locator("[data-kb-note]").click()
    expect(page.locator("#reply-form input[name=visibility][value=internal]")).to_be_checked()
    expect(page.locator("#reply-form textarea[name=body]")).to_be_focused()

    # sending forgets the draft
    page.locator("#reply-send").click()
    expect(page.locator("#timeline")).to_contain_text(DRAFT)
    expect(page.locator("#reply-form textarea[name=body]")).to_have_value("")
    assert not ReplyDraft.objects.filter(ticket=ticket).exists()
