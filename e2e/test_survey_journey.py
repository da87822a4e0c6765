"""Satisfaction survey: an agent resolves a ticket by replying with a macro picked in the reply
box (its text inserted in the requester's language, its status change applied with the reply);
the requester opens the survey link from the email, picks 4, adds a comment, submits, sees the
thank-you, and the portal ticket shows the rating."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from palier.macros.models import Macro
from palier.macros.tests.builders import make_macro
from palier.notifications import email
from palier.people import services as people
from palier.people.models import User
from palier.surveys.models import SurveyResponse
from palier.tickets import stream
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

LINK = re.compile(r"https?://\S+/surveys/answer/[^/\s]+/\?score=4")
COMMENT = "Rapide et efficace, merci !"


def _survey_link(ticket: Ticket) -> str:
    # What the background jobs do (idempotent if they already ran). After the flush of an earlier
    # transactional test, event ids go on where they were while the cursors start again at 0: no
    # transaction holds the ids below them, so the pump passes that gap at once.
    stream.pump("surveys")
    email.send_pending()
    bodies = [
        str(m.body) for m in mail.outbox if m.to == [ticket.requester.email] and "/surveys/answer/" in str(m.body)
    ]
    assert len(bodies) == 1
    found = LINK.search(bodies[0])
    assert found is not None
    return found.group(0)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_resolve_with_a_macro_then_the_requester_rates_it(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    page: Page,
    requester: User,
    agent: User,
    settings: object,
) -> None:
    settings.PALIER_BASE_URL = url("")  # type: ignore[attr-defined]
    for user in (requester, agent):
        people.update_user(user, by=user, language=language)
    make_macro(
        agent,
        name="Resolved: printer",
        body_fr="Bonjour {requester_first_name}, {ticket_number} est résolu.",
        body_en="Hello {requester_first_name}, {ticket_number} is solved.",
        set_status="resolved",
    )
    make_macro(agent, name="Checking", body_fr="Nous regardons.", body_en="We are looking into it.")
    ticket = make_ticket(requester, subject="Imprimante bloquée")
    expected = {"fr": "Bonjour Alice, {} est résolu.", "en": "Hello Alice, {} is solved."}[language]

    # the agent picks the macro in the reply box and sends: the ticket is resolved with the reply
    desk = login(agent.email, "pw-lea-123!", target=page)
    desk.goto(url(f"/agent/tickets/{ticket.pk}/"))
    _pick_macro(desk, "check", "Checking")
    desk.locator("#reply-send").click()  # an htmx reply: the reply box is swapped
    expect(desk.locator("#timeline")).to_contain_text(
        {"fr": "Nous regardons.", "en": "We are looking into it."}[language]
    )
    expect(desk.locator("#id_body")).to_have_value("")
    _pick_macro(desk, "printer", "Resolved: printer")
    expect(desk.locator("#id_body")).to_have_value(expected.format(ticket.reference))
    expect(desk.locator("#macro-chosen")).to_contain_text("Resolved: printer")
    desk.locator("#reply-send").click()
    expect(desk.locator("#timeline")).to_contain_text(expected.format(ticket.reference))
    desk.wait_for_load_state("networkidle")  # the panels the reply refreshes, before the page is left
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert dict(Macro.objects.values_list("name", "usage_count")) == {"Checking": 1, "Resolved: printer": 1}

    # the requester opens the score-4 link from the email, without signing in
    home = open_page(locale=language)
    home.goto(_survey_link(ticket))
    expect(home.locator("#survey-form")).to_be_visible()
    expect(home.locator("input[name=score][value='4']")).to_be_checked()
    assert not SurveyResponse.objects.exists()  # opening the link changes nothing
    home.locator("#id_comment").fill(COMMENT)
    with home.expect_navigation():
        home.locator("#survey-submit").click()
    expect(home.locator("#survey-thanks")).to_be_visible()
    expect(home.locator("#survey-thanks")).to_contain_text("4")

    answer = SurveyResponse.objects.get()
    assert (answer.ticket_id, answer.score, answer.comment) == (ticket.pk, 4, COMMENT)
    event = TicketEvent.objects.get(ticket=ticket, kind="survey")
    assert event.data == {"score": 4, "comment": COMMENT}

    # signed in, the portal ticket shows her rating
    login(requester.email, "pw-alice-123!", target=home)
    home.goto(url(f"/portal/requests/{ticket.pk}/"))
    expect(home.locator("#survey-rating")).to_contain_text("4")
    expect(home.locator("#survey-box")).to_contain_text(COMMENT)
    expect(home.locator("#survey-change")).to_be_visible()


def _pick_macro(desk: Page, query: str, name: str) -> None:
    """Type in the macro picker and pick ``name``. A search typed while the reply box is still being
    swapped after a reply can be lost (its answer lands in the old box): type again then."""
    choice = desk.locator("[data-macro-insert]", has_text=name)
    search = desk.locator("#macro-search")
    for _ in range(3):
        search.fill("")  # the picker searches on a changed value only
        search.fill(query)
        try:
            expect(choice).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue
    choice.click()
