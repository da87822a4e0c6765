"""The change calendar through the API: changes and conflicts in a period (through a dependency,
a freeze, outside a maintenance window), one change's conflicts, freeze windows (admins,
overlap, ETag/If-Match, Idempotency-Key) and the services' maintenance windows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from palier.api.tests.conftest import assert_problem
from palier.changes.models import FreezeWindow, MaintenanceWindow
from palier.changes.services import freezes
from palier.changes.tests.calendar_builders import BASE, change_on, cmdb
from palier.people.models import User

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}  # headers of ApiClient.call


def period(days: float = 7, **extra: Any) -> str:
    start = BASE - timedelta(days=1)
    query = {"start": start.isoformat(), "end": (start + timedelta(days=days)).isoformat(), **extra}
    return "/changes/calendar?" + urlencode(query)


def freeze_body(days: int = 0, hours: int = 24, name: str = "Fiscal year end") -> dict[str, Any]:
    start = BASE + timedelta(days=days)
    return {"name": name, "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}


# --- calendar -------------------------------------------------------------------------------------


def test_the_calendar_is_for_agents_and_refuses_bad_periods(
    agent: User, requester: User, token_client: Callable[..., Any]
) -> None:
    assert_problem(token_client(requester).call("GET", period(), **EN), 403)
    client = token_client(agent)
    body = assert_problem(client.call("GET", period(days=94), **EN), 422, "end")
    assert "93 days" in body["detail"] or "93 days" in str(body["errors"])
    assert_problem(client.call("GET", period(days=-1), **EN), 422, "end")
    assert_problem(client.call("GET", period(risk="extreme"), **EN), 422, "risk")
    assert client.call("GET", period(days=93), **EN).status_code == 200


def test_the_calendar_flags_a_conflict_through_a_dependency_and_a_freeze(
    agent: User, admin_user: User, token_client: Callable[..., Any]
) -> None:
    items = cmdb(agent)
    on_db = change_on(agent, [items["db"]], title="Patch the database")
    on_app = change_on(agent, [items["app"]], start=BASE + timedelta(hours=1), title="Deploy payroll", kind="emergency")
    change_on(agent, [items["mail"]], start=BASE + timedelta(days=10), title="Outside the period")
    freeze = freezes.create_freeze(
        by=admin_user, name="Audit", starts_at=BASE + timedelta(hours=2), ends_at=BASE + timedelta(hours=5)
    )
    body = token_client(agent).call("GET", period(), **EN).json()
    assert [(c["reference"], c["title"], c["kind"]) for c in body["changes"]] == [
        (on_db.reference, "Patch the database", "normal"),
        (on_app.reference, "Deploy payroll", "emergency"),
    ]
    assert body["truncated"] is False
    by_change = {(c["change"], c["kind"]): c for c in body["conflicts"]}
    through = by_change[(on_db.pk, "asset")]
    assert through["other_change"] == on_app.pk and through["other_reference"] == on_app.reference
    assert through["asset"] == {"id": items["app"].pk, "name": "APP-01 Payroll application"}
    assert through["direct"] is False and "through a dependency" in through["message"]
    frozen = by_change[(on_app.pk, "freeze")]
    assert frozen["freeze"] == {"id": freeze.pk, "name": "Audit"} and "Audit" in frozen["message"]
    assert (on_db.pk, "freeze") not in by_change  # 08:00–10:00 ends as the freeze starts
    on_the_app = token_client(agent).call("GET", period(asset=items["app"].pk), **EN).json()
    assert [c["id"] for c in on_the_app["changes"]] == [on_db.pk, on_app.pk]  # the app runs on the database
    mail = token_client(agent).call("GET", period(asset=items["mail"].pk), **EN).json()
    assert mail["changes"] == [] and mail["conflicts"] == []
    mine = token_client(agent).call("GET", f"/changes/{on_app.pk}/conflicts", **EN).json()
    assert sorted(c["kind"] for c in mine) == ["asset", "freeze"]


def test_a_change_outside_the_service_maintenance_windows_is_flagged(
    agent: User, admin_user: User, token_client: Callable[..., Any]
) -> None:
    items = cmdb(agent)
    freezes.add_maintenance_window(
        by=admin_user, service=items["service"], weekday=6, start_time=BASE.time().replace(hour=2), end_time=BASE.time()
    )
    change = change_on(agent, [items["db"]])
    found = token_client(agent).call("GET", f"/changes/{change.pk}/conflicts", **EN).json()
    assert [(c["kind"], c["asset"]["name"]) for c in found] == [("maintenance", "SVC-PAY Payroll")]
    assert "outside the maintenance windows of SVC-PAY Payroll" in found[0]["message"]


def test_the_calendar_takes_constant_queries(
    agent: User, client_for: Callable[..., Any], django_assert_max_num_queries: Any
) -> None:
    items = cmdb(agent)
    client = client_for(agent)
    change_on(agent, [items["db"]])
    change_on(agent, [items["app"]], start=BASE + timedelta(hours=1))
    with django_assert_max_num_queries(10) as few:
        assert len(client.call("GET", period(), **EN).json()["conflicts"]) == 2
    for n in range(6):
        change_on(agent, [items["db"], items["mail"]], start=BASE + timedelta(days=1, hours=n))
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = client.call("GET", period(), **EN).json()
    assert len(body["changes"]) == 8 and len(body["conflicts"]) > 10


# --- freeze windows -------------------------------------------------------------------------------


def test_only_administrators_write_freezes_and_read_tokens_never(
    agent: User, admin_user: User, token_client: Callable[..., Any]
) -> None:
    body = assert_problem(token_client(agent).call("POST", "/freezes", freeze_body(), **EN), 403)
    assert "administrators" in body["detail"]
    assert_problem(token_client(admin_user, scope="read").call("POST", "/freezes", freeze_body(), **EN), 403)
    assert not FreezeWindow.objects.exists()
    freeze = freezes.create_freeze(by=admin_user, **{k: v for k, v in _parsed(freeze_body()).items()})
    assert_problem(token_client(agent).call("DELETE", f"/freezes/{freeze.pk}", **EN), 403)
    assert token_client(agent).call("GET", f"/freezes/{freeze.pk}", **EN).status_code == 200
    assert FreezeWindow.objects.filter(pk=freeze.pk).exists()


def _parsed(body: dict[str, Any]) -> dict[str, Any]:
    from django.utils.dateparse import parse_datetime

    return {
        "name": body["name"],
        "starts_at": parse_datetime(body["starts_at"]),
        "ends_at": parse_datetime(body["ends_at"]),
    }


def test_overlapping_or_reversed_freezes_are_refused(admin_user: User, token_client: Callable[..., Any]) -> None:
    client = token_client(admin_user)
    made = client.call("POST", "/freezes", freeze_body(), **EN)
    assert made.status_code == 201, made.content
    assert made["Location"].endswith(f"/freezes/{made.json()['id']}") and made["ETag"].startswith('W/"freeze-')
    body = assert_problem(client.call("POST", "/freezes", freeze_body(hours=48, name="Audit"), **EN), 422, "starts_at")
    assert "Fiscal year end" in str(body["errors"])
    reversed_ = dict(freeze_body(days=5), ends_at=BASE.isoformat())
    assert_problem(client.call("POST", "/freezes", reversed_, **EN), 422, "ends_at")
    assert list(FreezeWindow.objects.values_list("name", flat=True)) == ["Fiscal year end"]


def test_a_retried_creation_returns_the_first_freeze(admin_user: User, token_client: Callable[..., Any]) -> None:
    client = token_client(admin_user)
    first = client.call("POST", "/freezes", freeze_body(), **{"Idempotency-Key": "freeze-1"}, **EN)
    again = client.call("POST", "/freezes", freeze_body(), **{"Idempotency-Key": "freeze-1"}, **EN)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and FreezeWindow.objects.count() == 1
    other = client.call("POST", "/freezes", freeze_body(days=3), **{"Idempotency-Key": "freeze-1"}, **EN)
    assert_problem(other, 422, "Idempotency-Key")


def test_a_freeze_is_changed_only_with_its_current_etag(admin_user: User, token_client: Callable[..., Any]) -> None:
    client = token_client(admin_user)
    made = client.call("POST", "/freezes", freeze_body(), **EN).json()
    read = client.call("GET", f"/freezes/{made['id']}", **EN)
    etag = read["ETag"]
    assert client.call("GET", f"/freezes/{made['id']}", **{"If-None-Match": etag}, **EN).status_code == 304
    assert_problem(client.call("PATCH", f"/freezes/{made['id']}", {"name": "Year end"}, **EN), 428, "If-Match")
    assert_problem(
        client.call("PATCH", f"/freezes/{made['id']}", {"name": "X"}, **{"If-Match": 'W/"freeze-1-0"'}, **EN), 412
    )
    changed = client.call("PATCH", f"/freezes/{made['id']}", {"name": "Year end"}, **{"If-Match": etag}, **EN)
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Year end" and changed["ETag"] != etag
    stale = client.call("PATCH", f"/freezes/{made['id']}", {"reason": "Auditors"}, **{"If-Match": etag}, **EN)
    assert_problem(stale, 412)
    assert FreezeWindow.objects.get().reason == ""
    assert_problem(client.call("DELETE", f"/freezes/{made['id']}", **{"If-Match": etag}, **EN), 412)
    assert client.call("DELETE", f"/freezes/{made['id']}", **{"If-Match": changed["ETag"]}, **EN).status_code == 204
    assert not FreezeWindow.objects.exists()


def test_moving_a_freeze_onto_another_is_refused(admin_user: User, token_client: Callable[..., Any]) -> None:
    client = token_client(admin_user)
    client.call("POST", "/freezes", freeze_body(), **EN)
    later = client.call("POST", "/freezes", freeze_body(days=10, name="Audit"), **EN)
    moved = client.call(
        "PATCH", f"/freezes/{later.json()['id']}", {"starts_at": BASE.isoformat()}, **{"If-Match": later["ETag"]}, **EN
    )
    assert_problem(moved, 422, "starts_at")
    assert FreezeWindow.objects.get(name="Audit").starts_at == BASE + timedelta(days=10)


def test_the_freeze_list_filters_by_period(agent: User, admin_user: User, token_client: Callable[..., Any]) -> None:
    for days, name in ((0, "First"), (20, "Second"), (40, "Third")):
        freezes.create_freeze(by=admin_user, **_parsed(freeze_body(days=days, name=name)))
    client = token_client(agent)
    query = urlencode(
        {"start": (BASE + timedelta(days=10)).isoformat(), "end": (BASE + timedelta(days=50)).isoformat()}
    )
    page = client.call("GET", f"/freezes?{query}&limit=1", **EN).json()
    assert [f["name"] for f in page["items"]] == ["Second"]
    rest = client.call("GET", f"/freezes?{query}&cursor={page['next_cursor']}", **EN).json()
    assert [f["name"] for f in rest["items"]] == ["Third"] and rest["next_cursor"] is None


# --- maintenance windows --------------------------------------------------------------------------


def test_maintenance_windows_of_a_service(agent: User, admin_user: User, token_client: Callable[..., Any]) -> None:
    items = cmdb(agent)
    url = f"/assets/{items['service'].pk}/maintenance-windows"
    slot = {"weekday": 6, "start_time": "02:00", "end_time": "06:00", "time_zone": "Europe/Paris"}
    assert_problem(token_client(agent).call("POST", url, slot, **EN), 403)
    admin = token_client(admin_user)
    assert_problem(admin.call("POST", url, dict(slot, end_time="01:00"), **EN), 422, "end_time")
    assert_problem(admin.call("POST", url, dict(slot, time_zone="Mars/Olympus"), **EN), 422, "time_zone")
    server = f"/assets/{items['db'].pk}/maintenance-windows"
    assert_problem(admin.call("POST", server, slot, **EN), 422, "service")
    made = admin.call("POST", url, slot, **EN)
    assert made.status_code == 201, made.content
    listed = token_client(agent).call("GET", url, **EN).json()
    assert [(w["weekday"], w["start_time"], w["time_zone"]) for w in listed] == [(6, "02:00:00", "Europe/Paris")]
    assert token_client(agent).call("GET", server, **EN).json() == []
    assert_problem(token_client(agent).call("DELETE", f"/maintenance-windows/{made.json()['id']}", **EN), 403)
    assert admin.call("DELETE", f"/maintenance-windows/{made.json()['id']}", **EN).status_code == 204
    assert not MaintenanceWindow.objects.exists()
    assert_problem(admin.call("DELETE", f"/maintenance-windows/{made.json()['id']}", **EN), 404)
