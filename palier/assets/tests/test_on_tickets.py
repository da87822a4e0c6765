"""Assets on tickets: the agent's panels, the portal's "Which device?", rules and SLAs on assets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.assets.models import Asset, TicketAsset
from palier.assets.tests.builders import make_asset
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _detail(ticket: Any) -> str:
    return reverse("agent:ticket-detail", args=[ticket.pk])


def test_agent_sees_the_requesters_assets_and_links_one(
    client: Client, agent: User, requester: User, requester_b: User, django_assert_max_num_queries: Any
) -> None:
    today = timezone.localdate()
    laptop = make_asset(
        "LT-0100", by=agent, assigned_to=requester, model="Dell Latitude 5440", warranty_end=today - timedelta(days=3)
    )
    make_asset("PH-0100", by=agent, type="phone", assigned_to=requester, warranty_end=today + timedelta(days=10))
    make_asset("LT-0101", by=agent, assigned_to=requester, status=Asset.Status.DISPOSED)  # not shown
    hidden = make_asset("LT-0900", assigned_to=requester_b, owner_group=SupportGroup.objects.create(name="X"))
    earlier = make_ticket(requester, subject="Earlier")
    TicketAsset.objects.create(ticket=earlier, asset=laptop)
    ticket = make_ticket(requester, subject="Laptop won't boot")
    client.force_login(agent)

    # the two panels cost at most two queries
    client.get(_detail(ticket), **EN)  # warm the per-process caches
    with (
        CaptureQueriesContext(connection) as without,
        patch("palier.assets.selectors.ticket_assets", return_value=[]),
        patch("palier.assets.selectors.requester_assets_card", return_value=[]),
    ):
        client.get(_detail(ticket), **EN)
    with django_assert_max_num_queries(len(without) + 2):
        html = client.get(_detail(ticket), **EN).content.decode()
    card = html[html.index('id="requester-assets"') :]
    assert "LT-0100" in card and "PH-0100" in card and "LT-0101" not in card
    assert 'data-warranty="past"' in card and 'data-warranty="soon"' in card
    assert "1 open ticket" in card and "Dell Latitude 5440" in card
    assert reverse("assets:detail", args=[laptop.pk]) in card

    # one click from the card links it; the panel lists it
    link = reverse("agent:ticket-asset-link", args=[ticket.pk])
    response = client.post(link, {"asset": laptop.pk}, follow=True, **EN)
    panel = response.content.decode()
    assert "LT-0100 linked to the ticket." in panel
    assert 'data-asset="LT-0100"' in panel[panel.index('id="affected-assets"') : panel.index('id="requester-assets"')]
    # an asset the agent may not see, by tag or by id: an error, nothing linked
    for data in ({"tag": "LT-0900"}, {"asset": hidden.pk}, {"tag": ""}):
        response = client.post(link, data, follow=True, **EN)
        assert "Asset not found." in response.content.decode() or "Enter the tag" in response.content.decode()
    assert list(TicketAsset.objects.filter(ticket=ticket).values_list("asset__tag", flat=True)) == ["LT-0100"]
    # remove
    response = client.post(reverse("agent:ticket-asset-unlink", args=[ticket.pk, laptop.pk]), follow=True, **EN)
    assert "is no longer linked" in response.content.decode()
    assert not TicketAsset.objects.filter(ticket=ticket).exists()
    # a requester cannot reach the agent's views
    client.force_login(requester)
    assert client.post(link, {"asset": laptop.pk}).status_code == 404


def test_portal_asks_which_device_and_links_only_the_requesters_own(
    client: Client, agent: User, requester: User, requester_b: User
) -> None:
    mine = make_asset("LT-0200", by=agent, assigned_to=requester, name="ThinkPad T14")
    theirs = make_asset("LT-0201", by=agent, assigned_to=requester_b)
    url = reverse("portal:ticket-new")
    form = {"kind": "incident", "subject": "Screen flickers", "impact": "low", "urgency": "low"}
    client.force_login(requester_b)
    client.force_login(requester)
    html = client.get(url, **EN).content.decode()
    assert "Which device?" in html and "LT-0200" in html and "LT-0201" not in html
    # someone else's asset, forged: a form error, nothing created
    response = client.post(url, {**form, "device": theirs.pk}, **EN)
    assert response.status_code == 400 and 'id="id_device_error"' in response.content.decode()
    assert not Ticket.objects.filter(subject="Screen flickers").exists()
    response = client.post(url, {**form, "device": mine.pk}, **EN)
    ticket = Ticket.objects.get(subject="Screen flickers")
    assert list(ticket.asset_links.values_list("asset__tag", flat=True)) == ["LT-0200"]
    html = client.get(response.url, **EN).content.decode()
    assert 'id="ticket-devices"' in html and "ThinkPad T14" in html
    # without devices, no question
    client.force_login(User.objects.create_user(email="nodevice@acme.test", password="x" * 12))
    assert "Which device?" not in client.get(url, **EN).content.decode()


def test_a_catalog_asset_question_links_the_chosen_device(
    client: Client, agent: User, requester: User, requester_b: User
) -> None:
    from palier.catalog.tests.builders import make_item

    mine = make_asset("LT-0300", by=agent, assigned_to=requester)
    theirs = make_asset("LT-0301", by=agent, assigned_to=requester_b)
    item = make_item(name="Repair", fields=[{"key": "device", "kind": "asset", "required": True}])
    url = reverse("catalog:item", args=[item.pk])
    client.force_login(requester)
    html = client.get(url, **EN).content.decode()
    assert "LT-0300" in html and "LT-0301" not in html
    response = client.post(url, {"f_device": theirs.pk}, **EN)
    assert response.status_code == 400 and not TicketAsset.objects.exists()
    response = client.post(url, {"f_device": mine.pk}, **EN)
    ticket = Ticket.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))
    assert list(ticket.asset_links.values_list("asset__tag", flat=True)) == ["LT-0300"]
    assert ticket.submission.answers[0]["value"] == {"id": mine.pk, "tag": "LT-0300"}
    # the same question through the API: only an id of the requester's own devices
    api = f"/api/v1/catalog/items/{item.pk}/requests"
    refused = client.post(api, {"answers": {"device": theirs.pk}}, content_type="application/json", **EN)
    assert refused.status_code == 422 and "answers.device" in refused.json()["errors"]
    answered = client.post(api, {"answers": {"device": mine.pk}}, content_type="application/json", **EN)
    assert answered.status_code == 201, answered.content
    assert TicketAsset.objects.filter(asset=mine).count() == 2 and not TicketAsset.objects.filter(asset=theirs).exists()


def _payroll(agent: User) -> tuple[Asset, Asset]:
    """The payroll service (critical) depends on the payroll application, which runs on vm-01."""
    from palier.assets import services as asset_services

    service = make_asset("BS-PAY", by=agent, type="business-service", name="Payroll", criticality="critical")
    app = make_asset("APP-PAY", by=agent, type="application", name="Payroll app")
    vm = make_asset("VM-01", by=agent, type="virtual-machine", name="vm-01")
    asset_services.relate(agent, service, "depends_on", app)
    asset_services.relate(agent, app, "runs_on", vm)
    return service, vm


def test_a_ticket_on_a_critical_service_gets_the_critical_sla(agent: User, requester: User) -> None:
    from palier.assets import services as asset_services
    from palier.sla import services as sla_services
    from palier.sla.models import Calendar, Clock

    calendar = Calendar.objects.get(name="24/7")
    sla_services.create_policy(
        name="Critical services", calendar=calendar, first_response_minutes=15, resolution_minutes=240,
        criticalities=["critical"], position=0, by=None,
    )  # fmt: skip
    _service, vm = _payroll(agent)

    def policy(ticket: Ticket) -> str | None:
        clock = Clock.objects.filter(ticket=ticket, kind="resolution", stopped_at__isnull=True).first()
        return clock.policy.name if clock and clock.policy else None

    # opened with the VM (two levels under the service): the critical policy from the start
    ticket = asset_services.open_ticket_with_assets(
        requester=requester, by=agent, assets=[vm], subject="vm-01 down", impact="low", urgency="low"
    )
    assert policy(ticket) == "Critical services"
    # linked later by an agent: the policy is picked again; unlinked: back to the usual one
    other = make_ticket(requester, subject="Slow")
    assert policy(other) != "Critical services"
    asset_services.link_ticket(agent, other, vm)
    assert policy(other) == "Critical services"
    asset_services.unlink_ticket(agent, other, vm)
    assert policy(other) != "Critical services"


def test_routing_sends_a_ticket_by_its_devices_location(agent: User, requester: User, admin_user: User) -> None:
    from django.core.exceptions import ValidationError

    from palier.assets import services as asset_services
    from palier.assets.models import Location
    from palier.routing import services as routing

    lyon = Location.objects.create(name="Lyon", path="Lyon")
    building = Location.objects.create(name="Bâtiment A", parent=lyon, kind="building", path="Lyon › Bâtiment A")
    lyon_desk = SupportGroup.objects.create(name="Proximité Lyon")
    routing.create_rule(by=admin_user, name="Lyon devices", group=lyon_desk, asset_location="Lyon", asset_type="laptop")
    laptop = make_asset("LT-0500", by=agent, assigned_to=requester, location=building)
    phone = make_asset("PH-0500", by=agent, type="phone", assigned_to=requester, location=building)
    fields = {"subject": "Broken", "impact": "low", "urgency": "low"}
    routed = asset_services.open_ticket_with_assets(requester=requester, by=requester, assets=[laptop], **fields)
    assert routed.group == lyon_desk
    # a phone at the same place, or no device: the usual triage
    for assets in ([phone], []):
        ticket = asset_services.open_ticket_with_assets(requester=requester, by=requester, assets=assets, **fields)
        assert ticket.group != lyon_desk
    with pytest.raises(ValidationError, match="No asset type"):
        routing.create_rule(by=admin_user, name="Bad", group=lyon_desk, asset_type="spaceship")


def test_the_api_refuses_assets_on_a_requesters_new_ticket(client: Client, agent: User, requester: User) -> None:
    """Assets are linked through the pages, the catalog and rules (and the asset API's own links),
    never by a field of the ticket creation: an ``assets`` field is refused, nothing created."""
    import json

    from palier.people import services as people

    laptop = make_asset("LT-0600", by=agent, assigned_to=requester)
    secret = people.create_api_token(requester, scope="write").secret
    body = {"subject": "Forged", "assets": [laptop.pk]}
    response = client.post(
        "/api/v1/tickets", json.dumps(body), content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"}, **EN,
    )  # fmt: skip
    assert response.status_code in (400, 422), response.content
    assert "assets" in response.content.decode()
    assert not Ticket.objects.filter(subject="Forged").exists() and not TicketAsset.objects.exists()
