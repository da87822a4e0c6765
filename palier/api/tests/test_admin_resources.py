"""The administration resources' shared behaviour (``palier/api/resources.py``), shown on
departments: paging and filters, who may call, ETag/If-Match, Idempotency-Key, and refusals."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.people import services as people
from palier.people.models import Department


@pytest.fixture
def departments(org, other_org):
    made = [people.create_department(organisation=org, name=f"Dept {i:02}") for i in range(5)]
    made.append(people.create_department(organisation=other_org, name="Elsewhere"))
    return made


def test_only_administrators_reach_the_resource(client_for, requester, agent, manager, departments):
    for user in (requester, agent, manager):
        client = client_for(user)
        assert_problem(client.get(f"{API}/departments"), 403)
        assert_problem(client.get(f"{API}/departments/{departments[0].pk}"), 403)
        assert_problem(
            client.call("POST", "/departments", {"organisation": departments[0].organisation_id, "name": "X"}), 403
        )
        assert_problem(client.call("DELETE", f"/departments/{departments[0].pk}"), 403)
    assert Department.objects.count() == 6
    assert client_for(None).get(f"{API}/departments").status_code == 401


def test_lists_page_with_a_cursor_and_filter(client_for, admin_user, departments, org, django_assert_max_num_queries):
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        first = client.get(f"{API}/departments?limit=4").json()
    assert [d["id"] for d in first["items"]] == [d.pk for d in departments[:4]]
    rest = client.get(f"{API}/departments?limit=4&cursor={first['next_cursor']}").json()
    assert [d["id"] for d in rest["items"]] == [d.pk for d in departments[4:]] and rest["next_cursor"] is None
    mine = client.get(f"{API}/departments?organisation={org.pk}&q=dept 0").json()["items"]
    assert len(mine) == 5 and all(d["organisation"] == org.pk for d in mine)
    assert_problem(client.get(f"{API}/departments?cursor=nonsense"), 400, "cursor")


def test_create_answers_201_with_location_and_etag_and_a_retry_creates_nothing_more(client_for, admin_user, org):
    client = client_for(admin_user)
    body = {"organisation": org.pk, "name": "Finance"}
    r = client.call("POST", "/departments", body, **{"Idempotency-Key": "k-1"})
    assert r.status_code == 201, r.content
    made = r.json()
    assert r["Location"].endswith(f"/departments/{made['id']}") and r["ETag"].startswith(f'"{made["id"]}-h')
    again = client.call("POST", "/departments", body, **{"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    assert_problem(
        client.call("POST", "/departments", {**body, "name": "Legal"}, **{"Idempotency-Key": "k-1"}),
        422,
        "Idempotency-Key",
    )
    assert list(Department.objects.values_list("name", flat=True)) == ["Finance"]


def test_create_refuses_bad_input_with_field_errors_and_changes_nothing(client_for, admin_user, org, departments):
    client = client_for(admin_user)
    assert_problem(client.call("POST", "/departments", {"organisation": 999999, "name": "X"}), 422, "organisation")
    assert_problem(client.call("POST", "/departments", {"organisation": org.pk, "name": "  "}), 422, "name")
    assert_problem(client.call("POST", "/departments", {"organisation": org.pk, "name": "x" * 201}), 422, "name")
    assert_problem(client.call("POST", "/departments", {"organisation": org.pk, "name": "X", "id": 5}), 422, "id")
    duplicate = client.call("POST", "/departments", {"organisation": org.pk, "name": "dept 00"})
    assert duplicate.status_code == 409
    assert Department.objects.count() == 6


def test_update_needs_the_etag_read_and_refuses_a_stale_one(client_for, admin_user, departments):
    client = client_for(admin_user)
    target = departments[0]
    read = client.get(f"{API}/departments/{target.pk}")
    etag = read["ETag"]
    assert client.get(f"{API}/departments/{target.pk}", headers={"If-None-Match": etag}).status_code == 304
    assert_problem(client.call("PATCH", f"/departments/{target.pk}", {"name": "Renamed"}), 428, "If-Match")
    r = client.call("PATCH", f"/departments/{target.pk}", {"name": "Renamed"}, **{"If-Match": etag})
    assert r.status_code == 200 and r.json()["name"] == "Renamed" and r["ETag"] != etag
    stale = client.call("PATCH", f"/departments/{target.pk}", {"name": "Again"}, **{"If-Match": etag})
    assert_problem(stale, 412)
    target.refresh_from_db()
    assert target.name == "Renamed"


def test_delete_refuses_while_people_belong_and_then_deletes(client_for, admin_user, requester, departments):
    client = client_for(admin_user)
    target = departments[0]
    requester.department = target
    requester.save(update_fields=["department"])
    refused = client.call("DELETE", f"/departments/{target.pk}")
    assert refused.status_code == 409 and refused.json()["detail"]
    requester.department = None
    requester.save(update_fields=["department"])
    assert client.call("DELETE", f"/departments/{target.pk}").status_code == 204
    assert not Department.objects.filter(pk=target.pk).exists()
    assert_problem(client.call("DELETE", f"/departments/{target.pk}"), 404)


def test_errors_come_in_the_callers_language(client_for, admin_user, departments):
    admin_user.language = "fr"
    admin_user.save(update_fields=["language"])
    r = client_for(admin_user).call("PATCH", f"/departments/{departments[0].pk}", {"name": "X"})
    assert r.status_code == 428 and "If-Match" in r.json()["detail"] and "Envoyez" in r.json()["detail"]


def test_every_resource_is_in_the_openapi_document(client_for, admin_user):
    paths = client_for(admin_user).get(f"{API}/openapi.json").json()["paths"]
    assert set(paths["/api/v1/departments"]) == {"get", "post"}
    assert set(paths["/api/v1/departments/{object_id}"]) == {"get", "patch", "delete"}


def test_ids_no_database_can_hold_name_nothing(client_for, admin_user, departments):
    client = client_for(admin_user)
    huge = 2**70
    assert_problem(client.get(f"{API}/departments/{huge}"), 404)
    assert_problem(client.call("PATCH", f"/departments/{huge}", {"name": "x"}, **{"If-Match": '"1-1"'}), 404)
    assert_problem(client.get(f"{API}/departments?organisation={huge}"), 422, "organisation")
    assert_problem(client.call("PUT", "/survey-settings", {"opted_out": [huge]}), 422, "opted_out")
