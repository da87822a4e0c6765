"""The attacker's and the broken agent's reports: refused with a clear answer, nothing half-done,
the raw report kept for diagnosis when it was from a real token."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from palier.assets import services
from palier.assets.inventory import reports, tokens
from palier.assets.models import Asset, AssetEvent, AssetIdentifier, InventoryReport
from palier.assets.tests.builders import make_asset

from .corpus import new_token, post

pytestmark = pytest.mark.django_db


def report(serial: str = "SN-0001", **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "action": "inventory",
        "deviceid": f"pc-{serial}",
        "itemtype": "Computer",
        "content": {
            "versionclient": "test",
            "hardware": {"name": f"pc-{serial.lower()}", "uuid": f"uuid-{serial}-0000", "chassis_type": "Desktop"},
            "bios": {"ssn": serial, "smanufacturer": "Acme", "smodel": "Box"},
            "softwares": [{"name": "Firefox", "version": "120.0"}, {"name": "7-Zip", "version": "23.01"}],
        },
    }
    body.update(extra)
    return body


def test_no_revoked_or_expired_token_is_refused_and_nothing_is_stored(client):
    token, secret = new_token()
    expired, expired_secret = new_token(name="old", days=1)
    expired.expires_at = timezone.now() - timedelta(minutes=1)
    expired.save()
    for header in ["", "Bearer nope", "Bearer pinv_forged", f"Bearer {expired_secret}", "Basic !!!"]:
        response = post(client, report(), None, **({"HTTP_AUTHORIZATION": header} if header else {}))
        assert response.status_code == 401
        assert response.json()["status"] == "error"
        assert response["WWW-Authenticate"].startswith("Basic")
    tokens.revoke_token(token, by=None)
    assert post(client, report(), secret).status_code == 401
    assert InventoryReport.objects.count() == Asset.objects.count() == 0


def test_the_glpi_agent_basic_login_and_handshake(client):
    _token, secret = new_token()
    basic = "Basic " + base64.b64encode(f"agent:{secret}".encode()).decode()
    response = post(
        client,
        {
            "action": "contact",
            "deviceid": "pc-1",
            "installed-tasks": ["inventory", "deploy"],
            "enabled-tasks": ["inventory", "deploy"],
        },
        None,
        HTTP_AUTHORIZATION=basic,
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "ok" and answer["expiration"] == 24 and answer["disabled"] == ["deploy"]
    assert InventoryReport.objects.count() == 0  # a handshake is not a report
    assert post(client, report(), None, HTTP_AUTHORIZATION=basic).status_code == 200
    # "server = desk.example.org" makes the agent post to http://desk.example.org/inventory
    bare = client.post("/inventory", data=report("SN-9"), content_type="application/json", HTTP_AUTHORIZATION=basic)
    assert bare.status_code == 200


@override_settings(PALIER_INVENTORY_MAX_MB=1)
def test_an_oversized_report_or_a_zip_bomb_is_refused_with_413(client):
    _token, secret = new_token()
    huge = json.dumps(report(padding="x" * (1024 * 1024 + 10))).encode()
    assert post(client, huge, secret).status_code == 413
    bomb = zlib.compress(b"{" + b" " * (50 * 1024 * 1024) + b"}", 9)  # 50 MB of nothing in ~50 kB
    assert len(bomb) < 100_000
    assert post(client, bomb, secret, content_type="application/x-compress-zlib").status_code == 413
    assert InventoryReport.objects.count() == 0


def test_broken_reports_answer_400_and_are_kept_rejected(client):
    _token, secret = new_token()
    whole = json.dumps(report()).encode()
    cases = [
        (whole[: len(whole) // 2], "not valid JSON"),  # truncated
        (zlib.compress(whole)[:-10], "compressed body is truncated"),
        (b"<?xml version='1.0'?><REQUEST/>", "XML"),
        (json.dumps(report(itemtype="Unmanaged")).encode(), "Unknown item type"),
        (json.dumps(report(itemtype="Toaster")).encode(), "Unknown item type"),
        (json.dumps({"action": "inventory", "deviceid": "x", "content": {}}).encode(), "versionclient"),
        (
            json.dumps(report(content={"versionclient": "t", "hardware": {"memory": "lots"}})).encode(),
            "content.hardware.memory",
        ),
    ]
    for body, message in cases:
        response = post(client, body, secret, content_type="application/octet-stream")
        assert response.status_code == 400, (message, response.content)
        assert message in response.json()["message"]
    rejected = list(InventoryReport.objects.filter(state=InventoryReport.State.REJECTED))
    assert len(rejected) == len(cases)
    assert all(r.error and bytes(r.body) for r in rejected)
    assert Asset.objects.count() == 0
    # the same broken report again: the same answer, no second row
    again = post(client, cases[0][0], secret)
    assert again.status_code == 400 and InventoryReport.objects.count() == len(cases)


def test_machines_are_matched_by_identifier_without_duplicates(client):
    _token, secret = new_token()
    post(client, report("SN-0001"), secret)
    machine = Asset.objects.get()
    assert {(i.kind, i.value) for i in machine.identifiers.all()} == {
        ("device", "pc-SN-0001"),
        ("uuid", "uuid-sn-0001-0000"),
        ("serial", "SN-0001"),
    }
    # reinstalled: a new device id and a new UUID, the same serial; and a new software list
    again = report("SN-0001", deviceid="pc-reinstalled")
    again["content"]["hardware"]["uuid"] = "uuid-new-0000"  # type: ignore[index]
    again["content"]["hardware"]["name"] = "pc-renamed"  # type: ignore[index]
    again["content"]["softwares"] = [{"name": "Firefox", "version": "121.0"}, {"name": "Vim\u0000", "version": "9"}]  # type: ignore[index]  # a NUL: dropped
    assert post(client, again, secret).status_code == 200
    assert Asset.objects.count() == 1
    assert machine.identifiers.count() == 5
    event = machine.events.filter(kind=AssetEvent.Kind.INVENTORY).order_by("-id").first()
    assert event is not None
    assert event.data["software"] == {
        "added": 1,
        "removed": 1,
        "upgraded": 1,
        "added_names": ["Vim"],
        "removed_names": ["7-Zip"],
        "upgraded_names": ["Firefox"],
    }
    assert sorted(machine.installations.values_list("product", "version")) == [("firefox", "121.0"), ("vim", "9")]
    assert event.data["fields"] == {"attributes.hostname": ["pc-sn-0001", "pc-renamed"]}
    # another laptop on the same docking station (same MAC, its own UUID and serial): a new asset
    docked = report("SN-0002")
    docked["content"]["networks"] = [{"description": "dock", "mac": "a0:ce:c8:00:00:01"}]  # type: ignore[index]
    again["content"]["networks"] = docked["content"]["networks"]  # type: ignore[index]
    post(client, again, secret)
    assert post(client, docked, secret).status_code == 200
    assert Asset.objects.count() == 2
    machine.refresh_from_db()
    assert machine.name == "pc-sn-0001"  # the desk's name from then on; the hostname field follows


def test_a_retired_machine_is_not_resurrected(client, agent):
    _token, secret = new_token()
    post(client, report(), secret)
    machine = Asset.objects.get()
    services.change_status(agent, machine, Asset.Status.RETIRED)
    assert post(client, report(deviceid="pc-later"), secret).status_code == 200
    machine.refresh_from_db()
    assert machine.status == Asset.Status.RETIRED
    held = InventoryReport.objects.order_by("-id").first()
    assert held is not None and held.state == InventoryReport.State.HELD and "retired" in held.error
    assert machine.events.filter(kind=AssetEvent.Kind.INVENTORY, data__dormant_reported="retired").exists()


def test_a_token_cannot_touch_another_organisations_machine(client, org, other_org):
    theirs = make_asset("LT-B", serial="SN-B-0001", organisation=other_org, name="Globex laptop")
    AssetIdentifier.objects.create(asset=theirs, kind="serial", value="SN-B-0001")
    _token, secret = new_token(organisation=org)
    response = post(client, report("SN-B-0001"), secret)
    assert response.status_code == 409
    assert "another organisation" in response.json()["message"]
    machine = Asset.objects.get()
    assert machine.name == "Globex laptop" and machine.last_inventory_at is None
    assert machine.identifiers.count() == 1  # nothing of the report was applied
    assert InventoryReport.objects.get().state == InventoryReport.State.HELD


def test_retention_prunes_old_applied_reports_and_keeps_problems_longer(client):
    _token, secret = new_token()
    post(client, report("SN-1"), secret)
    post(client, b"{broken", secret)
    old = timezone.now() - timedelta(days=40)
    InventoryReport.objects.update(received_at=old)
    assert reports.prune() == 1
    assert list(InventoryReport.objects.values_list("state", flat=True)) == [InventoryReport.State.REJECTED]
    assert reports.prune(now=timezone.now() + timedelta(days=60)) == 1
