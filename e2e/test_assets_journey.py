"""An agent sees the requester's device on a ticket: the requester's assets card shows the laptop
with its warranty, one click links it as an affected asset, its page opens, and its impact view
lists the business service that depends on it.

The impact view is built on another branch (URL name ``assets:impact``, ``#impact-link`` on the
asset page, ``#impact-view`` holding an inline ``<svg>``): until it is merged the last steps end
the test as an expected failure (see ``_impact_page_exists``); after the merge they run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from palier.assets import services as asset_services
from palier.assets.tests.builders import make_asset
from palier.people import services as people
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket


@pytest.mark.parametrize("language", ["fr", "en"])
def test_agent_links_the_requesters_laptop_and_opens_its_impact_view(
    language: str,
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    page: Page,
    requester: User,
    agent: User,
) -> None:
    people.update_user(agent, by=agent, language=language)
    ends = timezone.localdate() + timedelta(days=12)
    laptop = make_asset(
        "PC-04242", by=agent, name="Latitude 5440 – Alice", model="Dell Latitude 5440", serial="7XK2L93",
        assigned_to=requester, status="deployed", warranty_end=ends,
    )  # fmt: skip
    service = make_asset("SVC-VPN", by=agent, type="business-service", name="Accès distant VPN", criticality="high")
    asset_services.relate(agent, service, "depends_on", laptop)
    ticket = make_ticket(requester, subject="Mon portable ne démarre plus")

    desk = login(agent.email, "pw-lea-123!", target=page)
    desk.goto(url(f"/agent/tickets/{ticket.pk}/"))
    expect(desk.locator("html")).to_have_attribute("lang", language)

    # the requester's assets card: the laptop, its open tickets and its warranty (ending soon)
    card = desk.locator("#requester-assets")
    row = card.locator('[data-asset="PC-04242"]')
    expect(row).to_contain_text("Dell Latitude 5440")
    expect(row.locator('[data-warranty="soon"] time')).to_have_attribute("datetime", ends.isoformat())
    expect(desk.locator('#affected-assets [data-asset="PC-04242"]')).to_have_count(0)

    # one click links it as affected; the card no longer offers it
    row.locator("button[type=submit]").click()
    affected = desk.locator('#affected-assets [data-asset="PC-04242"]')
    expect(affected).to_have_count(1)
    expect(row.locator("button[type=submit]")).to_have_count(0)
    assert ticket.asset_links.filter(asset=laptop).exists()

    # its page
    affected.locator("a").first.click()
    expect(desk).to_have_url(url(f"/agent/assets/{laptop.pk}/"))
    expect(desk.locator("h1")).to_contain_text("PC-04242")

    # what depends on it, as a picture
    desk.locator("#impact-link").click()
    view = desk.locator("#impact-view")
    expect(view.locator("svg")).to_have_count(1)
    expect(view).to_contain_text("Accès distant VPN")
