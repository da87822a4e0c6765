"""The shared GLPI inventory examples through the endpoint: the machines they describe, once each,
with their software, sections and the changes between two reports."""

from __future__ import annotations

import gzip
import zlib

import pytest

from palier.assets.inventory.extract import trim_sections
from palier.assets.inventory.schema import SCHEMA_PATH
from palier.assets.models import Asset, AssetEvent, InventoryReport

from .corpus import CORPUS, example, example_bytes, needs_corpus, new_token, post

pytestmark = [pytest.mark.django_db, needs_corpus]

SMALL = [
    "computer_1.json",
    "computer_2.json",
    "phone_1.json",
    "printer_1.json",
    "printer_2.json",
    "printer_3.json",  # the same printer as printer_2, a later report
    *[f"networkequipment_{n}.json" for n in range(1, 6)],
]


def test_every_example_makes_its_machine_once_with_the_right_type(client, org):
    # the schema Palier ships is the corpus's
    assert SCHEMA_PATH.read_bytes() == (CORPUS / "inventory.schema.json").read_bytes()
    _token, secret = new_token(organisation=org)
    for name in SMALL:
        response = post(client, example_bytes(name), secret)
        assert response.status_code == 200, (name, response.content)
        assert response.json()["status"] == "ok"
    by_name = {a.name: a for a in Asset.objects.select_related("type")}
    assert len(by_name) == Asset.objects.count() == 10  # printer_3 updated printer_2
    assert by_name["glpixps"].type.slug == "laptop"
    assert by_name["glpixps"].serial == "640HP72"
    assert by_name["glpixps"].attributes["memory_mb"] == 7800
    assert by_name["glpixps"].installations.count() == len(example("computer_1.json")["content"]["softwares"])
    assert by_name["Mi9TPro-TéléphoneM"].type.slug == "phone"
    assert by_name["Mi9TPro-TéléphoneM"].installations.count() == 3
    assert by_name["NPIF2BE10"].type.slug == "printer"
    assert by_name["MX5970"].type.slug == "printer"
    assert by_name["HP-2530-48G"].type.slug == "network-equipment"
    assert by_name["HP-2530-48G"].attributes == {"ip_address": "192.168.63.30", "ports": 61}
    assert {a.organisation_id for a in by_name.values()} == {org.pk}
    assert all(a.tag.startswith("INV-") and a.status == Asset.Status.DEPLOYED for a in by_name.values())
    # the same document again: OK, nothing new
    events = AssetEvent.objects.count()
    assert post(client, example_bytes("computer_1.json"), secret).status_code == 200
    assert AssetEvent.objects.count() == events
    assert InventoryReport.objects.count() == len(SMALL)


def test_partial_reports_update_only_their_section(client):
    _token, secret = new_token()
    post(client, example_bytes("computer_1.json"), secret)
    laptop = Asset.objects.get()
    before = dict(laptop.inventory)
    assert {"cpus", "memories", "drives", "batteries", "networks", "storages"} <= set(before)
    for name, section in [
        ("computer_1_partial_cpu.json", "cpus"),
        ("computer_1_partial_memory.json", "memories"),
        ("computer_1_partial_volumes.json", "drives"),
        ("computer_1_partial_batteries.json", "batteries"),
    ]:
        assert post(client, example_bytes(name), secret).status_code == 200
        laptop.refresh_from_db()
        assert laptop.inventory[section] == trim_sections(example(name)["content"])[section]
        if name == "computer_1_partial_volumes.json":  # new free space: stored, not a change worth an event
            assert laptop.inventory["drives"][0]["free"] == 11883
        # every section the partial report did not carry is as it was
        for other in ("networks", "storages", "operatingsystem"):
            assert laptop.inventory[other] == before[other], (name, other)
    assert Asset.objects.count() == 1
    assert laptop.events.filter(kind=AssetEvent.Kind.INVENTORY).count() == 1  # the first report's
    assert laptop.installations.count() == 6  # no software section: installations untouched
    post(client, example_bytes("computer_1_partial_softs.json"), secret)
    assert laptop.installations.count() == 6
    # computer_2's partial reports add virtual machines and databases to the same machine
    post(client, example_bytes("computer_2.json"), secret)
    post(client, example_bytes("computer_2_partial_dbs.json"), secret)
    comp1 = Asset.objects.get(name="COMP1")
    assert "databases_services" in comp1.inventory and "virtualmachines" in comp1.inventory
    assert Asset.objects.count() == 2


def test_a_later_report_records_what_really_changed(client):
    _token, secret = new_token()
    first = example("computer_3.json")
    second = example("computer_3_updated.json")
    # compressed both ways, as the GLPI Agent sends them
    response = post(
        client, zlib.compress(example_bytes("computer_3.json")), secret, content_type="application/x-compress-zlib"
    )
    assert response.status_code == 200, response.content
    machine = Asset.objects.get()
    assert machine.type.slug == "laptop"  # chassis "Notebook"
    assert machine.installations.count() == len(first["content"]["softwares"])
    response = post(
        client,
        gzip.compress(example_bytes("computer_3_updated.json")),
        secret,
        content_type="application/x-compress-gzip",
    )
    assert response.status_code == 200, response.content
    assert Asset.objects.count() == 1
    assert machine.installations.count() == len(second["content"]["softwares"])
    event = machine.events.filter(kind=AssetEvent.Kind.INVENTORY).order_by("-id").first()
    assert event is not None

    def keys(report):
        return {(s["name"].lower(), s.get("version", ""), s.get("arch", "")) for s in report["content"]["softwares"]}

    old, new = keys(first), keys(second)
    old_products, new_products = {k[0] for k in old - new}, {k[0] for k in new - old}
    software = event.data["software"]
    assert software["added"] == len(new_products - old_products)
    assert software["removed"] == len(old_products - new_products)
    assert software["upgraded"] == len(old_products & new_products)
    assert software["added"] + software["upgraded"] > 0
    assert "virtual_machines" in event.data  # computer_3_updated reports virtual machines
    # the asset's timeline tells it in words
    from django.utils import translation

    from palier.assets import display

    with translation.override("en"):
        (line,) = display.lines([event])
    assert line.actor == "Palier" and line.summary == "inventory report"
    assert (
        f"Software: {software['added']} added, {software['removed']} removed, {software['upgraded']} upgraded"
        in line.details
    )
    assert any(detail.startswith("Virtual machines added: ") for detail in line.details)
    # a third identical report changes nothing and says so
    assert InventoryReport.objects.filter(state=InventoryReport.State.APPLIED).count() == 2
