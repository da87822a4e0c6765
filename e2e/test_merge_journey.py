"""An agent ticks two duplicates in the queue and merges them into the first report; the
feedback says so, the duplicate leaves the open queue, and the kept ticket's page lists it and
holds its message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.people import services as people
from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

# a browser journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent


def test_agent_merges_two_duplicates_from_the_queue(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    requester: User,
    requester_b: User,
    agent: User,
) -> None:
    people.update_user(agent, by=agent, language="en")  # the merge's strings are translated after the merge
    first = make_ticket(requester, subject="VPN refuses my password")
    second = make_ticket(requester_b, subject="VPN login fails")
    services.comment_on_ticket(second, by=requester_b, body="Since this morning, error 691")

    page = login(agent.email, "pw-lea-123!")
    page.goto(url("/agent/"))
    page.locator(f"#select-{first.pk}").check()
    page.locator(f"#select-{second.pk}").check()
    page.locator("details.bulk-more > summary").click()  # merging is under "More actions"
    page.locator("#bulk-merge-into").fill(first.reference)
    page.locator("#bulk-merge-submit").click()

    feedback = page.locator("#queue-feedback")
    expect(feedback).to_contain_text(f"Merged {second.reference} into {first.reference}.")
    expect(page.locator(f"#ticket-row-{second.pk}")).to_have_count(0)  # closed: out of the open queue
    expect(page.locator(f"#ticket-row-{first.pk}")).to_be_visible()

    page.goto(url(f"/agent/tickets/{first.pk}/"))
    expect(page.locator("#merged-from")).to_contain_text(second.reference)
    expect(page.locator("#timeline")).to_contain_text("Since this morning, error 691")
    expect(page.locator("#timeline")).to_contain_text(f"merged {second.reference} into this ticket")
    assert Ticket.objects.get(pk=second.pk).merged_into_id == first.pk
