"""The assets API: the same rules as the pages, ETag/If-Match, Idempotency-Key, licences and seats."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import assert_problem
from palier.assets.models import Asset, AssetEvent, Relationship, SeatAssignment
from palier.assets.tests.builders import make_asset
from palier.audit.models import AuditEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}  # headers of ApiClient.call


def test_a_requester_sees_only_their_own_assets(client_for, agent, requester, requester_b):
    mine = make_asset("LT-1001", by=agent, assigned_to=requester)
    theirs = make_asset("LT-1002", by=agent, assigned_to=requester_b)
    api = client_for(requester)
    listed = api.call("GET", "/assets").json()["items"]
    assert [a["tag"] for a in listed] == ["LT-1001"]
    assert api.call("GET", f"/assets/{mine.pk}").status_code == 200
    # someone else's asset does not exist for them, whatever they try
    assert_problem(api.call("GET", f"/assets/{theirs.pk}"), 404)
    assert_problem(api.call("PATCH", f"/assets/{theirs.pk}", {"name": "x", "version": 1}), 404)
    assert_problem(api.call("GET", f"/assets/{theirs.pk}/history"), 404)
    # they cannot change their own, nor add assets
    assert_problem(api.call("PATCH", f"/assets/{mine.pk}", {"name": "x", "version": 1}), 403)
    assert_problem(api.call("POST", "/assets", {"tag": "LT-9", "type": "laptop", "name": "Mine"}), 403)
    # they link their own device to their own open request, never someone else's
    ticket = make_ticket(requester)
    assert_problem(api.call("POST", f"/tickets/{ticket.pk}/assets", {"asset": theirs.pk}), 404)
    assert api.call("POST", f"/tickets/{ticket.pk}/assets", {"asset": mine.pk}).status_code == 201
    assert [a["tag"] for a in api.call("GET", f"/tickets/{ticket.pk}/assets").json()] == ["LT-1001"]
    linked = api.call("GET", f"/assets/{mine.pk}/tickets").json()
    assert [t["reference"] for t in linked["items"]] == [ticket.reference] and linked["next_cursor"] is None
    assert Asset.objects.get(pk=theirs.pk).name == "Asset LT-1002"


def test_create_retry_etag_and_stale_write(client_for, agent, requester, django_assert_max_num_queries):
    api = client_for(agent)
    body = {"tag": "SRV-01", "type": "server", "name": "db-01", "status": "deployed", "assigned_to": requester.pk}
    first = api.call("POST", "/assets", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    again = api.call("POST", "/assets", body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Asset.objects.filter(tag="SRV-01").count() == 1
    # the same key with another request is refused
    assert_problem(api.call("POST", "/assets", {**body, "name": "other"}, **{"Idempotency-Key": "k-1"}), 422)

    asset_id = first.json()["id"]
    with django_assert_max_num_queries(6):
        got = api.call("GET", f"/assets/{asset_id}")
    tag = got["ETag"]
    assert got.json()["assigned_to"]["email"] == requester.email
    changed = api.call("PATCH", f"/assets/{asset_id}", {"model": "R750"}, **{"If-Match": tag})
    assert changed.status_code == 200 and changed["ETag"] != tag
    stale = api.call("PATCH", f"/assets/{asset_id}", {"model": "R760"}, **{"If-Match": tag})
    assert_problem(stale, 412)
    assert Asset.objects.get(pk=asset_id).model == "R750"
    assert_problem(api.call("PATCH", f"/assets/{asset_id}", {"location": 999999, "version": 2}), 422, "location")
    retired = api.call("POST", f"/assets/{asset_id}/status", {"status": "retired"})
    assert retired.json()["status"] == "retired"
    kinds = [e["kind"] for e in api.call("GET", f"/assets/{asset_id}/history").json()["items"]]
    assert kinds == ["created", "changed", "status"]

    for n in range(5):
        make_asset(f"LT-2{n:03}", by=agent)
    with django_assert_max_num_queries(6):
        page = api.call("GET", "/assets?limit=3&family=hardware").json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = api.call("GET", f"/assets?limit=3&family=hardware&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 3 and rest["next_cursor"] is None
    assert [a["tag"] for a in api.call("GET", "/assets?status=retired").json()["items"]] == ["SRV-01"]


def test_relationships_refuse_a_loop_and_the_impact_walks_up(client_for, agent):
    service = make_asset("SVC-PAY", by=agent, type="business-service", name="Payroll")
    app = make_asset("APP-01", by=agent, type="server")
    db = make_asset("DB-01", by=agent, type="server")
    api = client_for(agent)
    assert (
        api.call("POST", f"/assets/{service.pk}/relationships", {"kind": "depends_on", "target": app.pk}).status_code
        == 201
    )
    assert api.call("POST", f"/assets/{app.pk}/relationships", {"kind": "runs_on", "target": db.pk}).status_code == 201
    loop = api.call("POST", f"/assets/{db.pk}/relationships", {"kind": "depends_on", "target": service.pk}, **EN)
    message = assert_problem(loop, 422, "target")["errors"]["target"][0]
    assert "SVC-PAY" in message and "DB-01" in message  # "… already needs …: this would make a loop"
    assert Relationship.objects.count() == 2
    walked = api.call("GET", f"/assets/{db.pk}/impact?direction=up&depth=5").json()
    assert [(n["tag"], n["level"]) for n in walked["nodes"]] == [("DB-01", 0), ("APP-01", 1), ("SVC-PAY", 2)]
    both = api.call("GET", f"/assets/{app.pk}/relationships").json()
    assert {(r["direction"], r["other"]["tag"]) for r in both} == {("needs", "DB-01"), ("needed_by", "SVC-PAY")}


def test_licence_seats_are_never_over_assigned_and_the_key_stays_masked(
    client_for, agent, admin_user, requester, requester_b
):
    api = client_for(agent)
    created = api.call(
        "POST",
        "/licences",
        {"tag": "LIC-01", "name": "Visio", "product": "Microsoft Visio", "seats": 1, "key": "ABCDE-FGHIJ-KLMNO-PQRST"},
    )
    assert created.status_code == 201, created.content
    assert created.json()["key"] == "••••QRST" and "ABCDE" not in created.content.decode()
    asset_id = created.json()["asset"]["id"]
    assert api.call("POST", f"/licences/{asset_id}/seats", {"user": requester.pk}).status_code == 201
    full = api.call("POST", f"/licences/{asset_id}/seats", {"user": requester_b.pk}, **EN)
    assert "All 1 seats" in assert_problem(full, 409)["detail"]
    assert SeatAssignment.objects.count() == 1
    assert_problem(api.call("POST", f"/licences/{asset_id}/key"), 403)
    revealed = client_for(admin_user).call("POST", f"/licences/{asset_id}/key").json()
    assert revealed["key"] == "ABCDE-FGHIJ-KLMNO-PQRST"
    assert AuditEvent.objects.filter(action="asset.licence_key_revealed", actor=admin_user).count() == 1
    # fewer seats than given is refused; the history masks the key
    changed = api.call("PATCH", f"/licences/{asset_id}", {"key": "NEW-KEY-0000-1111", "publisher": "Microsoft"})
    assert changed.status_code == 200 and changed.json()["key"] == "••••1111"
    event = AssetEvent.objects.filter(asset_id=asset_id, kind=AssetEvent.Kind.CHANGED).get()
    assert "NEW-KEY" not in str(event.data) and "ABCDE" not in str(event.data)
