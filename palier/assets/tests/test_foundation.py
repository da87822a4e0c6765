"""The asset services every interface goes through: history, lifecycle, relationships, ticket links."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.assets import graph, selectors, services
from palier.assets.models import Asset, AssetEvent, Relationship
from palier.assets.tests.builders import make_asset
from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion
from palier.tickets import services as ticket_services
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_every_change_is_an_event_with_old_and_new(agent, requester):
    laptop = make_asset("LT-0001", by=agent, serial="5CG1234", attributes={"memory_mb": "16384"})
    laptop = services.update_asset(
        agent, laptop, {"assigned_to": requester, "attributes": {"memory_mb": 32768}}, expected_version=1
    )
    events = list(laptop.events.order_by("id"))
    assert [e.kind for e in events] == [AssetEvent.Kind.CREATED, AssetEvent.Kind.CHANGED]
    assert events[1].data == {"assigned_to": [None, str(requester)], "attributes.memory_mb": [16384, 32768]}
    assert events[1].actor == agent and laptop.version == 2
    # nothing changed: no event, no version
    assert services.update_asset(agent, laptop, {"serial": "5CG1234"}).version == 2
    with pytest.raises(StaleVersion):
        services.update_asset(agent, laptop, {"name": "x"}, expected_version=1)
    with pytest.raises(ValueError, match="immutable"):
        events[0].save()


def test_bad_input_names_the_field_and_changes_nothing(agent):
    make_asset("LT-0002", by=agent)
    for tag, values, field in [
        ("lt-0002", {}, "tag"),  # another asset's tag, whatever its case
        ("LT-0003", {"attributes": {"memory_mb": "lots"}}, "memory_mb"),
        ("LT-0003", {"attributes": {"colour": True}}, "attributes"),  # not a field of laptops
        ("LT-0003", {"purchase_date": "2026-05-01", "warranty_end": "2025-05-01"}, "warranty_end"),
        ("LT-0003", {"purchase_cost": "-3"}, "purchase_cost"),
    ]:
        with pytest.raises(ValidationError) as caught:
            make_asset(tag, by=agent, **values)
        assert field in caught.value.message_dict
    assert Asset.objects.count() == 1


def test_the_lifecycle_refuses_a_disposed_asset_coming_back(agent):
    laptop = make_asset("LT-0004", by=agent)
    laptop = services.change_status(agent, laptop, Asset.Status.RETIRED)
    laptop = services.change_status(agent, laptop, Asset.Status.DISPOSED)
    with pytest.raises(IllegalTransition):
        services.change_status(agent, laptop, Asset.Status.DEPLOYED)
    assert [e.data["status"] for e in laptop.events.filter(kind=AssetEvent.Kind.STATUS).order_by("id")] == [
        ["in_stock", "retired"],
        ["retired", "disposed"],
    ]


def test_relationships_refuse_loops_and_the_walk_goes_both_ways(agent):
    service = make_asset("SVC-PAY", by=agent, type="business-service")
    app = make_asset("APP-PAY", by=agent, type="application")
    vm = make_asset("VM-12", by=agent, type="virtual-machine")
    host = make_asset("ESX-3", by=agent, type="server")
    services.relate(agent, service, Relationship.Kind.DEPENDS_ON, app)
    services.relate(agent, app, Relationship.Kind.RUNS_ON, vm)
    services.relate(agent, vm, Relationship.Kind.HOSTED_ON, host)
    with pytest.raises(ValidationError, match="loop"):
        services.relate(agent, host, Relationship.Kind.DEPENDS_ON, service)
    services.relate(agent, host, Relationship.Kind.CONNECTS_TO, service)  # "connects to" may loop
    up = graph.walk(host.pk, direction="up", depth=5, kinds=Relationship.ACYCLIC)
    assert up.levels == {host.pk: 0, vm.pk: 1, app.pk: 2, service.pk: 3}
    down = graph.walk(service.pk, direction="down", depth=2)
    assert set(down.levels) == {service.pk, app.pk, vm.pk}
    assert host.events.filter(kind=AssetEvent.Kind.RELATED).count() == 2


def test_a_requester_links_only_their_own_device_to_their_own_request(agent, requester, requester_b):
    mine = make_asset("LT-0010", by=agent, assigned_to=requester)
    theirs = make_asset("LT-0011", by=agent, assigned_to=requester_b)
    ticket = make_ticket(requester)
    assert services.link_ticket(requester, ticket, mine) is not None
    assert services.link_ticket(requester, ticket, mine) is None  # twice: nothing new
    with pytest.raises(NotFound):  # invisible to them: as if it did not exist
        services.link_ticket(requester, ticket, theirs)
    watched = make_ticket(requester)
    ticket_services.add_watcher(watched, user=requester_b, by=agent)
    with pytest.raises(PermissionDenied):  # their own device, someone else's request they can see
        services.link_ticket(requester_b, watched, theirs)
    assert list(selectors.assets_of(requester, requester)) == [mine]
    with pytest.raises(NotFound):
        selectors.get_asset_for(requester, theirs.pk)
