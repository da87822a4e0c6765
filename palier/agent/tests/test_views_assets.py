"""The asset pages: list with filters and export, an asset's page, its form, the impact view, and
the administration of types and locations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from palier.assets import services
from palier.assets.models import Asset, AssetType, Location, Relationship
from palier.assets.services import locations
from palier.assets.tests.builders import make_asset
from palier.audit.models import AuditEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _client(user):
    client = Client(**EN)
    client.force_login(user)
    return client


def test_the_list_filters_pages_and_exports_what_it_shows(agent, admin_user, requester, django_assert_max_num_queries):
    lyon = locations.create_location(by=admin_user, name="Lyon", kind="site")
    floor = locations.create_location(by=admin_user, name="Étage 2", kind="floor", parent=lyon)
    soon = timezone.localdate() + dt.timedelta(days=10)
    make_asset("LT-0001", by=agent, name="ThinkPad Alice", assigned_to=requester, location=floor, warranty_end=soon)
    make_asset("LT-0002", by=agent, name="ThinkPad spare", status=Asset.Status.DEPLOYED)
    make_asset("SRV-01", by=agent, type="server", name="db-01", location=lyon)
    for n in range(3, 8):
        make_asset(f"LT-{n:04d}", by=agent)
    client = _client(agent)
    url = reverse("assets:list")

    with django_assert_max_num_queries(9):
        page = client.get(url).content.decode()
    assert "LT-0001" in page and 'rel="next"' not in page and "warranty-soon" in page

    def tags(**query):
        html = client.get(url, query).content.decode()
        return sorted(t for t in ("LT-0001", "LT-0002", "SRV-01", "LT-0003") if f">{t}<" in html)

    assert tags(location=lyon.pk) == ["LT-0001", "SRV-01"]  # the site and every place under it
    assert tags(person="alice@acme.test") == ["LT-0001"]
    assert tags(person="nobody@acme.test") == []
    assert tags(status="deployed") == ["LT-0002"]
    assert tags(q="thinkpad", type="laptop") == ["LT-0001", "LT-0002"]
    assert tags(warranty_before=(soon + dt.timedelta(days=1)).isoformat()) == ["LT-0001"]

    csv = b"".join(client.get(reverse("assets:export", args=["csv"]), {"q": "thinkpad"}).streaming_content).decode()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("tag,name,type") and len(lines) == 3 and "alice@acme.test" in lines[1]
    xlsx = client.get(reverse("assets:export", args=["xlsx"]), {"status": "deployed"})
    assert xlsx.status_code == 200 and b"".join(xlsx.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action="export.assets").count() == 2


def test_the_asset_page_shows_tickets_relationships_and_files_in_bounded_queries(
    agent, admin_user, requester, l2, django_assert_max_num_queries
):
    laptop = make_asset("LT-0100", by=agent, assigned_to=requester, attributes={"cpu": "i7"})
    vm = make_asset("VM-01", by=agent, type="virtual-machine", name="vm-payroll")
    hidden = make_asset("SRV-9", by=admin_user, type="server", name="secret-host", owner_group=l2)
    services.relate(admin_user, laptop, Relationship.Kind.CONNECTS_TO, vm)
    services.relate(admin_user, laptop, Relationship.Kind.DEPENDS_ON, hidden)
    for n in range(3):
        services.link_ticket(agent, make_ticket(requester, subject=f"Panne {n}"), laptop)
    client = _client(agent)
    upload = SimpleUploadedFile("facture.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    response = client.post(reverse("assets:file-upload", args=[laptop.pk]), {"file": upload})
    assert response.status_code == 302
    bad = SimpleUploadedFile("setup.exe", b"MZ\x90\x00" + b"\x00" * 100)
    refused = client.post(reverse("assets:file-upload", args=[laptop.pk]), {"file": bad})
    assert refused.status_code == 400 and "not accepted" in refused.content.decode()

    with django_assert_max_num_queries(13):
        page = client.get(reverse("assets:detail", args=[laptop.pk])).content.decode()
    assert 'id="impact-link"' in page and "Panne 2" in page and "facture.pdf" in page
    assert "vm-payroll" in page and "Restricted item" in page and "secret-host" not in page
    assert "attached the file facture.pdf" in page
    stored = laptop.files.get()
    download = client.get(reverse("assets:file", args=[laptop.pk, stored.pk]))
    assert download.status_code == 200 and download["Content-Security-Policy"].startswith("sandbox")
    # someone who cannot see the asset cannot fetch its files
    assert _client(requester).get(reverse("assets:file", args=[laptop.pk, stored.pk])).status_code == 404
    assert client.get(reverse("assets:detail", args=[hidden.pk])).status_code == 404


def test_editing_with_a_stale_version_changes_nothing_and_says_why(agent, requester):
    laptop = make_asset("LT-0200", by=agent, name="Old name")
    client = _client(agent)
    url = reverse("assets:edit", args=[laptop.pk])
    form = client.get(url).context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    services.update_asset(agent, laptop, {"serial": "CHANGED"})  # someone else, meanwhile
    stale = client.post(url, {**data, "name": "New name", "attr_cpu": "i5"})
    assert stale.status_code == 400 and "changed by someone else" in stale.content.decode()
    assert Asset.objects.get(pk=laptop.pk).name == "Old name"

    fresh = client.post(url, {**data, "version": 2, "name": "New name", "attr_cpu": "i5", "attr_memory_mb": "lots"})
    assert fresh.status_code == 400 and "Enter a number" in fresh.content.decode()
    client.post(url, {**data, "version": 2, "name": "New name", "attr_cpu": "i5"})
    laptop.refresh_from_db()
    assert laptop.name == "New name" and laptop.attributes["cpu"] == "i5"
    page = client.get(reverse("assets:detail", args=[laptop.pk])).content.decode()
    assert "Name: Old name → New name" in page
    # the status buttons offer only the lifecycle's next steps
    client.post(reverse("assets:status", args=[laptop.pk]), {"status": "disposed", "version": laptop.version})
    assert Asset.objects.get(pk=laptop.pk).status == Asset.Status.IN_STOCK
    client.post(reverse("assets:status", args=[laptop.pk]), {"status": "deployed", "version": laptop.version})
    assert Asset.objects.get(pk=laptop.pk).status == Asset.Status.DEPLOYED


def test_the_impact_view_draws_the_chain_and_hides_what_the_viewer_cannot_see(
    agent, admin_user, l2, django_assert_max_num_queries
):
    host = make_asset("ESX-1", by=agent, type="server", name="esx-host")
    vm = make_asset("VM-1", by=agent, type="virtual-machine", name="vm-app")
    app = make_asset("APP-1", by=admin_user, type="application", name="payroll-secret", owner_group=l2)
    service = make_asset("SVC-1", by=agent, type="business-service", name="Payroll")
    services.relate(admin_user, vm, Relationship.Kind.HOSTED_ON, host)
    services.relate(admin_user, app, Relationship.Kind.RUNS_ON, vm)
    services.relate(admin_user, service, Relationship.Kind.DEPENDS_ON, app)
    client = _client(agent)

    with django_assert_max_num_queries(11):
        response = client.get(reverse("assets:impact", args=[host.pk]), {"direction": "up", "depth": "5"})
    page = response.content.decode()
    view = page[page.index('id="impact-view"') :]
    assert "<svg" in view and "hosted on" in view and "runs on" in view and "depends on" in view
    assert "VM-1" in view and "SVC-1" in view and "Restricted item" in view
    assert "payroll-secret" not in page and "APP-1" not in page
    assert ' style="' not in page and "<style" not in page
    assert reverse("assets:detail", args=[vm.pk]) in view and reverse("assets:detail", args=[app.pk]) not in view

    # two levels only: the service, three hops away, is not reached
    near = client.get(reverse("assets:impact", args=[host.pk]), {"depth": "2"}).content.decode()
    assert "VM-1" in near and "SVC-1" not in near
    # what the service needs, from its page
    down = client.get(reverse("assets:detail", args=[service.pk])).content.decode()
    assert 'id="supporting-assets"' in down and "ESX-1" in down and "VM-1" in down


def test_the_type_fields_editor_refuses_bad_json_and_bad_definitions(admin_user, agent):
    client = _client(admin_user)
    url = reverse("assets:admin-types")
    base = {"name_fr": "Badgeuse", "name_en": "Badge reader", "family": "hardware"}
    response = client.post(url, {**base, "definitions": '[{"key": "model",'})
    assert response.status_code == 400 and "This is not valid JSON" in response.content.decode()
    response = client.post(url, {**base, "definitions": '[{"key": "model", "label_fr": "Modèle"}]'})
    assert response.status_code == 400 and "give its label in French and English" in response.content.decode()
    assert not AssetType.objects.filter(slug="badge-reader").exists()

    fields = '[{"key": "model", "label_fr": "Modèle", "label_en": "Model", "type": "text"}]'
    assert client.post(url, {**base, "definitions": fields}).status_code == 302
    created = AssetType.objects.get(slug="badge-reader")
    assert created.fields[0]["label_en"] == "Model"
    assert AuditEvent.objects.filter(action="asset_type.created", actor=admin_user).exists()
    assert _client(agent).get(url).status_code == 404

    # removing a field removes its values, so the assets stay editable
    reader = make_asset("BR-1", by=agent, type="badge-reader", attributes={"model": "HID iClass"})
    edit = reverse("assets:admin-type-edit", args=[created.pk])
    assert client.post(edit, {**base, "definitions": "[]", "active": "on"}).status_code == 302
    reader.refresh_from_db()
    assert reader.attributes == {} and reader.version == 2
    assert reader.events.latest("id").data == {"attributes.model": ["HID iClass", None]}
    services.update_asset(agent, reader, {"name": "Lobby reader", "attributes": {}})


def test_moving_a_location_renames_every_place_under_it(admin_user, agent):
    lyon = locations.create_location(by=admin_user, name="Lyon", kind="site")
    paris = locations.create_location(by=admin_user, name="Paris", kind="site")
    building = locations.create_location(by=admin_user, name="Bât A", kind="building", parent=lyon)
    room = locations.create_location(by=admin_user, name="Salle 12", kind="room", parent=building)
    make_asset("LT-0300", by=agent, location=room)
    client = _client(admin_user)
    edit = reverse("assets:admin-location-edit", args=[building.pk])

    refused = client.post(edit, {"name": "Bât A", "kind": "building", "parent": room.pk})
    assert refused.status_code == 400 and "cannot be moved under itself" in refused.content.decode()
    assert client.post(edit, {"name": "Bâtiment A", "kind": "building", "parent": paris.pk}).status_code == 302
    room.refresh_from_db()
    assert (room.path, room.depth) == ("Paris › Bâtiment A › Salle 12", 2)
    # the asset list's location filter follows the move
    assert "LT-0300" in client.get(reverse("assets:list"), {"location": paris.pk}).content.decode()

    client.post(reverse("assets:admin-location-delete", args=[room.pk]))
    assert Location.objects.filter(pk=room.pk).exists()  # it still holds an asset
    client.post(reverse("assets:admin-location-delete", args=[lyon.pk]))
    assert not Location.objects.filter(pk=lyon.pk).exists()
    listing = client.get(reverse("assets:admin-locations")).content.decode()
    assert "location-depth-2" in listing and "Salle 12" in listing
