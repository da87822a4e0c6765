"""An agent selects several tickets of the queue with their checkboxes and assigns them all to a
colleague with the bulk form; the feedback and the rows say so, and the tickets are assigned."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

# only strings the French catalog already translates (it is being completed elsewhere)
TEXT = {"fr": {"assigned": "Assigné", "new": "Nouveau"}, "en": {"assigned": "Assigned", "new": "New"}}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_bulk_assignment_from_the_queue(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    requester: User,
    agent: User,
    triage: SupportGroup,
) -> None:
    text = TEXT[language]
    people.update_user(agent, by=agent, language=language)
    colleague = people.create_user(
        email="hugo@desk.test", full_name="Hugo Colleague", role=User.Role.AGENT, password="pw-hugo-123!"
    )
    people.add_group_member(triage, user=colleague)
    printer, vpn, mouse = (
        make_ticket(requester, subject=subject) for subject in ("Imprimante HS", "VPN refusé", "Souris cassée")
    )

    page = login(agent.email, "pw-lea-123!")
    page.goto(url("/agent/"))
    expect(page.locator("html")).to_have_attribute("lang", language)
    for ticket in (printer, vpn, mouse):
        expect(page.locator(f"#ticket-row-{ticket.pk}")).to_contain_text(text["new"])

    page.locator(f"#select-{printer.pk}").check()
    page.locator(f"#select-{vpn.pk}").check()
    expect(page.locator("#bulk-count")).to_contain_text("2")
    if language == "en":
        expect(page.locator("#bulk-count")).to_have_text("(2 selected)")
        expect(page.get_by_role("button", name=f"Take {mouse.reference}")).to_be_visible()
    bulk = page.locator("#bulk-form")
    bulk.locator("select[name=assignee]").select_option(label=colleague.full_name)
    bulk.locator("#bulk-apply").click()

    feedback = page.locator("#queue-feedback")
    expect(feedback.locator("li")).to_have_count(2)
    expect(feedback).to_contain_text(printer.reference)
    expect(feedback).to_contain_text(vpn.reference)
    expect(feedback).not_to_contain_text(mouse.reference)
    expect(feedback.locator("li.text-success")).to_have_count(2)
    # the queue refreshes: the two rows show the colleague, the third one is untouched
    for ticket in (printer, vpn):
        row = page.locator(f"#ticket-row-{ticket.pk}")
        expect(row).to_contain_text(colleague.full_name)
        expect(row).to_contain_text(text["assigned"])
        expect(row.locator(f"#select-{ticket.pk}")).not_to_be_checked()
    mouse_row = page.locator(f"#ticket-row-{mouse.pk}")
    expect(mouse_row.locator("form[action*='/queue/take/'] button")).to_be_visible()  # "Take INC-3"
    expect(mouse_row).not_to_contain_text(colleague.full_name)

    assigned = dict(Ticket.objects.values_list("subject", "assignee"))
    assert assigned == {"Imprimante HS": colleague.pk, "VPN refusé": colleague.pk, "Souris cassée": None}
