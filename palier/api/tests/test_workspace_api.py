"""Macros and saved views through the API: agents manage their own, administrators share macros;
requesters get nothing, and nobody reaches another agent's personal macro or saved view."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.macros.models import Macro
from palier.people import services as people
from palier.tickets.models import SavedFilter


@pytest.fixture
def other_agent(db, triage):
    user = people.create_user(email="other.agent@palier.test", full_name="Other Agent", role="agent")
    people.add_group_member(triage, user=user)
    return user


def test_requesters_get_no_macros_and_no_saved_views(client_for, requester, agent):
    mine = Macro.objects.create(name="Hello", body_fr="Bonjour", owner=agent)
    client = client_for(requester)
    assert_problem(client.call("GET", "/macros"), 403)
    assert_problem(client.call("POST", "/macros", {"name": "x", "body_fr": "x"}), 403)
    assert_problem(client.call("PATCH", f"/macros/{mine.pk}", {"name": "x"}, **{"If-Match": "*"}), 403)
    assert_problem(client.call("DELETE", f"/macros/{mine.pk}"), 403)
    assert_problem(client.call("GET", "/saved-views"), 403)
    assert_problem(client.call("POST", "/saved-views", {"name": "x"}), 403)
    assert list(Macro.objects.values_list("name", flat=True)) == ["Hello"] and not SavedFilter.objects.exists()


def test_an_agent_manages_personal_macros_only(client_for, agent, other_agent, admin_user, triage):
    client = client_for(agent)
    made = client.call("POST", "/macros", {"name": "Restart", "body_en": "Please restart, {requester_first_name}."},
                       **{"Idempotency-Key": "m"})  # fmt: skip
    assert made.status_code == 201, made.content
    assert client.call("POST", "/macros", {"name": "Restart", "body_en": "Please restart, {requester_first_name}."},
                       **{"Idempotency-Key": "m"}).status_code == 200  # fmt: skip
    assert Macro.objects.count() == 1 and made.json()["owner"] == agent.pk
    body = assert_problem(
        client.call("POST", "/macros", {"name": "Shared", "body_fr": "x", "visibility": "everyone"}), 422, "visibility"
    )
    assert "Seuls les administrateurs peuvent partager" in body["errors"]["visibility"][0]
    assert_problem(client.call("POST", "/macros", {"name": "Bad", "body_fr": "{password}"}), 422, "body_fr")
    assert Macro.objects.count() == 1
    pk = made.json()["id"]
    changed = client.call("PATCH", f"/macros/{pk}", {"set_status": "resolved"}, **{"If-Match": made["ETag"]})
    assert changed.status_code == 200 and changed.json()["set_status"] == "resolved"
    assert changed.json()["body_en"] == "Please restart, {requester_first_name}."
    # another agent: someone's personal macro does not exist for them
    other = client_for(other_agent)
    assert other.get(f"{API}/macros/{pk}").status_code == 404
    assert other.call("PATCH", f"/macros/{pk}", {"name": "Mine"}, **{"If-Match": changed["ETag"]}).status_code == 404
    assert other.call("DELETE", f"/macros/{pk}").status_code == 404
    assert Macro.objects.get().name == "Restart"
    # an admin shares one with the group: the agents use it, only admins change it
    admin = client_for(admin_user)
    shared = admin.call("POST", "/macros", {"name": "Outage", "body_fr": "Panne", "visibility": "group",
                                            "group": triage.pk})  # fmt: skip
    assert shared.status_code == 201, shared.content
    usable = [m["name"] for m in client.get(f"{API}/macros?usable=true").json()["items"]]
    assert usable == ["Outage", "Restart"]
    assert [m["name"] for m in client.get(f"{API}/macros").json()["items"]] == ["Restart"]
    assert client.get(f"{API}/macros/{shared.json()['id']}").status_code == 200
    assert_problem(
        client.call("PATCH", f"/macros/{shared.json()['id']}", {"name": "Mine"}, **{"If-Match": shared["ETag"]}), 403
    )
    assert_problem(client.call("DELETE", f"/macros/{shared.json()['id']}"), 403)
    assert Macro.objects.filter(name="Outage").exists()
    assert client.call("DELETE", f"/macros/{pk}").status_code == 204
    assert list(Macro.objects.values_list("name", flat=True)) == ["Outage"]


def test_macro_lists_in_few_queries(client_for, admin_user, django_assert_max_num_queries):
    for n in range(8):
        Macro.objects.create(name=f"M{n}", body_fr="x", visibility="everyone")
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        page = client.get(f"{API}/macros?limit=5").json()
    assert len(page["items"]) == 5 and page["next_cursor"]
    with django_assert_max_num_queries(7):
        rest = client.get(f"{API}/macros?usable=true&limit=5&cursor={page['next_cursor']}").json()
    assert [m["name"] for m in rest["items"]] == ["M5", "M6", "M7"]


def test_saved_views_are_each_agents_own(client_for, agent, other_agent, django_assert_max_num_queries):
    client = client_for(agent)
    made = client.call("POST", "/saved-views", {"name": "Mine", "query": "?status=new&group=1"})
    assert made.status_code == 201, made.content
    assert made.json()["query"] == "status=new&group=1"
    second = client.call("POST", "/saved-views", {"name": "Urgent", "query": "priority=1"}).json()
    assert_problem(client.call("POST", "/saved-views", {"name": " "}), 422, "name")
    renamed = client.call("PATCH", f"/saved-views/{made.json()['id']}", {"name": "New ones"},
                          **{"If-Match": made["ETag"]})  # fmt: skip
    assert renamed.status_code == 200 and renamed.json()["query"] == "status=new&group=1"
    taken = client.get(f"{API}/saved-views/{second['id']}")
    assert_problem(
        client.call("PATCH", f"/saved-views/{second['id']}", {"name": "New ones"}, **{"If-Match": taken["ETag"]}),
        422,
        "name",
    )
    other = client_for(other_agent)
    assert other.get(f"{API}/saved-views").json()["items"] == []
    assert other.call("DELETE", f"/saved-views/{second['id']}").status_code == 404
    assert other.call("PATCH", f"/saved-views/{second['id']}", {"name": "x"}, **{"If-Match": taken["ETag"]}
                      ).status_code == 404  # fmt: skip
    with django_assert_max_num_queries(6):
        listed = client.get(f"{API}/saved-views").json()["items"]
    assert [v["name"] for v in listed] == ["New ones", "Urgent"]
    assert client.call("DELETE", f"/saved-views/{second['id']}").status_code == 204
    assert list(SavedFilter.objects.values_list("name", flat=True)) == ["New ones"]
