"""Automation rules on the ticket's linked assets, and the actions that link assets."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from palier.assets import services as asset_services
from palier.assets.models import Asset
from palier.assets.tests.builders import make_asset
from palier.automation.models import Rule
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_rules_match_linked_assets_and_link_the_requesters_laptop(
    requester: User, agent: User, make_rule: Callable[..., Rule], pump: Callable[[], int]
) -> None:
    service = make_asset("BS-MAIL", by=agent, type="business-service", name="Messagerie", criticality="high")
    server = make_asset("SRV-MX", by=agent, type="server", name="mx-01", status=Asset.Status.IN_REPAIR)
    asset_services.relate(agent, service, "depends_on", server)
    laptop = make_asset("LT-0400", by=agent, assigned_to=requester)
    make_rule(
        "Mail outage",
        conditions=[
            {"field": "business_service", "op": "has", "value": "messagerie"},  # reached from the server
            {"field": "asset_status", "op": "has", "value": "in_repair"},
        ],
        actions=[{"type": "add_tags", "value": "mail-outage"}],
    )
    make_rule(
        "Laptops",
        conditions=[{"field": "subject", "op": "contains", "value": "laptop"}],
        actions=[{"type": "link_requester_asset", "value": "laptop"}],
    )
    outage = asset_services.open_ticket_with_assets(
        requester=requester, by=agent, assets=[server], subject="No mail", impact="low", urgency="low"
    )
    other = make_ticket(requester, subject="My laptop is slow")
    pump()
    assert list(outage.tags.values_list("name", flat=True)) == ["mail-outage"]
    assert not other.tags.exists()
    assert list(other.asset_links.values_list("asset_id", flat=True)) == [laptop.pk]


def test_asset_conditions_and_actions_are_validated(make_rule: Callable[..., Rule]) -> None:
    from django.core.exceptions import ValidationError

    for conditions, actions, words in [
        ([{"field": "asset_status", "op": "has", "value": "broken"}], [{"type": "close"}], "Choose a value"),
        ([], [{"type": "link_asset", "value": ""}], "Enter an asset tag"),
    ]:
        with pytest.raises(ValidationError, match=words):
            make_rule(conditions=conditions, actions=actions)
    assert not Rule.objects.exists()
