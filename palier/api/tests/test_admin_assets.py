"""Asset administration through the API: suppliers, deleting a place, the spreadsheet import,
inventory tokens (secret shown once) and the inventory reports."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from palier.api.tests.conftest import API, assert_problem
from palier.assets.inventory import tokens as token_services
from palier.assets.models import Asset, InventoryReport, InventoryToken, Location, Supplier
from palier.assets.services import locations


def test_only_administrators_manage_suppliers_tokens_and_imports(client_for, agent, manager):
    for user in (agent, manager):
        client = client_for(user)
        assert_problem(client.call("POST", "/suppliers", {"name": "Dell"}), 403)
        assert_problem(client.call("POST", "/inventory-tokens", {"name": "GLPI agents"}), 403)
        assert_problem(client.get(f"{API}/inventory-reports"), 403)
        upload = client.post(
            f"{API}/assets/import", {"file": SimpleUploadedFile("a.csv", b"tag,type,name\nLT-1,laptop,x\n")}
        )
        assert_problem(upload, 403)
    assert not Supplier.objects.exists() and not InventoryToken.objects.exists() and not Asset.objects.exists()


def test_suppliers_are_created_and_changed(client_for, admin_user, django_assert_max_num_queries):
    client = client_for(admin_user)
    made = client.call("POST", "/suppliers", {"name": "Dell", "email": "pro@dell.test"})
    assert made.status_code == 201, made.content
    assert_problem(client.call("POST", "/suppliers", {"name": "dell"}), 422, "name")
    changed = client.call("PATCH", f"/suppliers/{made.json()['id']}", {"phone": "+33 1"}, **{"If-Match": made["ETag"]})
    assert changed.json()["phone"] == "+33 1" and changed.json()["email"] == "pro@dell.test"
    with django_assert_max_num_queries(6):
        assert [s["name"] for s in client.get(f"{API}/suppliers").json()["items"]] == ["Dell"]


def test_a_place_is_deleted_only_when_empty(client_for, admin_user):
    site = locations.create_location(name="Lyon", kind="site", by=admin_user)
    floor = locations.create_location(name="Floor 2", kind="floor", parent=site, by=admin_user)
    client = client_for(admin_user)
    assert_problem(client.call("DELETE", f"/locations/{site.pk}"), 422)
    assert client.call("DELETE", f"/locations/{floor.pk}").status_code == 204
    assert list(Location.objects.values_list("name", flat=True)) == ["Lyon"]


def test_the_import_checks_first_and_writes_on_request(client_for, admin_user):
    client = client_for(admin_user)
    rows = b"tag,type,name\nLT-100,laptop,Helene's laptop\nLT-101,nonsense-type,Bad row\n"
    checked = client.post(f"{API}/assets/import", {"file": SimpleUploadedFile("a.csv", rows), "kind": "assets"})
    assert checked.status_code == 200, checked.content
    body = checked.json()
    assert body["dry_run"] is True and body["written"] is False and body["counts"]["error"] == 1
    assert [r["line"] for r in body["rows"] if r["errors"]] == [3]
    assert not Asset.objects.exists()
    per_row = client.post(
        f"{API}/assets/import",
        {"file": SimpleUploadedFile("a.csv", rows), "kind": "assets", "mode": "per-row", "dry_run": "false"},
    )
    assert per_row.json()["written"] is True and list(Asset.objects.values_list("tag", flat=True)) == ["LT-100"]
    refused = client.post(f"{API}/assets/import", {"file": SimpleUploadedFile("a.csv", b"tag|colour\n1|2\n")})
    assert_problem(refused, 422, "file")


def test_inventory_tokens_show_their_secret_once_and_revoke(client_for, admin_user):
    client = client_for(admin_user)
    made = client.call("POST", "/inventory-tokens", {"name": "GLPI agents", "days": 30})
    assert made.status_code == 201, made.content
    secret = made.json()["secret"]
    assert secret.startswith(token_services.PREFIX) and token_services.authenticate(secret) is not None
    token_id = made.json()["id"]
    for response in (client.get(f"{API}/inventory-tokens"), client.get(f"{API}/inventory-tokens/{token_id}")):
        assert secret not in response.content.decode() and "digest" not in response.content.decode()
    assert_problem(client.call("POST", "/inventory-tokens", {"name": "x", "days": 0}), 422, "days")
    assert client.call("DELETE", f"/inventory-tokens/{token_id}").status_code == 204
    assert token_services.authenticate(secret) is None
    assert client.get(f"{API}/inventory-tokens/{token_id}").json()["revoked_at"] is not None


def test_inventory_reports_are_listed_without_bodies_and_read_raw(client_for, admin_user):
    body = json.dumps({"deviceid": "pc-1", "content": {}}).encode()
    report = InventoryReport.objects.create(body=body, digest="d" * 64, device_id="pc-1", state="rejected", error="bad")
    client = client_for(admin_user)
    listed = client.get(f"{API}/inventory-reports?state=rejected").json()["items"]
    assert [(r["id"], r["error"]) for r in listed] == [(report.pk, "bad")] and "body" not in listed[0]
    assert client.get(f"{API}/inventory-reports?state=applied").json()["items"] == []
    raw = client.get(f"{API}/inventory-reports/{report.pk}/raw")
    assert raw.status_code == 200 and raw.content == body and raw["X-Content-Type-Options"] == "nosniff"
    assert_problem(client.get(f"{API}/inventory-reports/999999/raw"), 404)
