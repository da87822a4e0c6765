"""Routing through the administration API: routing rules and their order, category defaults,
agents' availability and absences (palier/api/admin/routing.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from palier.api.tests.conftest import API, assert_problem
from palier.people.models import User
from palier.routing import services as routing
from palier.routing.models import Absence, CategoryLevelDefault, RoutingRule
from palier.tickets import services as tickets


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    """These tests read the English messages: people without a language get English here (French,
    the product's default, is checked by the catalogs' tests)."""
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(l2, triage):
    return [routing.create_rule(by=None, name=f"Rule {i}", group=l2 if i % 2 else triage) for i in range(4)]


def _order():
    return list(RoutingRule.objects.order_by("position", "id").values_list("pk", flat=True))


def test_only_administrators_manage_rules(client_for, requester, agent, manager, rules, l2):
    for user in (requester, agent, manager):
        client = client_for(user)
        assert_problem(client.get(f"{API}/routing-rules"), 403)
        assert_problem(client.call("POST", "/routing-rules", {"name": "X", "group": l2.pk}), 403)
        assert_problem(client.call("PUT", "/routing-rules/order", {"ids": _order()[::-1]}), 403)
        assert_problem(client.call("DELETE", f"/routing-rules/{rules[0].pk}"), 403)
    assert RoutingRule.objects.count() == 4


def test_rules_list_create_change_and_delete(client_for, admin_user, rules, l2, django_assert_max_num_queries):
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        listed = client.get(f"{API}/routing-rules?group={l2.pk}").json()["items"]
    assert [r["name"] for r in listed] == ["Rule 1", "Rule 3"]
    body = {"name": "Wifi", "group": l2.pk, "words": "wifi, borne", "priority": 2}
    made = client.call("POST", "/routing-rules", body, **{"Idempotency-Key": "r-1"})
    assert made.status_code == 201, made.content
    assert made.json()["position"] == 4 and made.json()["words"] == "wifi\nborne"
    again = client.call("POST", "/routing-rules", body, **{"Idempotency-Key": "r-1"})
    assert again.status_code == 200 and RoutingRule.objects.count() == 5
    path = f"/routing-rules/{made.json()['id']}"
    off = client.call("PATCH", path, {"is_active": False}, **{"If-Match": made["ETag"]})
    assert off.status_code == 200 and off.json()["is_active"] is False and off.json()["name"] == "Wifi"
    assert_problem(client.call("PATCH", path, {"priority": 9}, **{"If-Match": off["ETag"]}), 422, "priority")
    assert_problem(client.call("PATCH", path, {"group": 999999}, **{"If-Match": off["ETag"]}), 422, "group")
    assert client.call("DELETE", path).status_code == 204
    assert RoutingRule.objects.count() == 4


def test_order_takes_the_full_list(client_for, admin_user, rules):
    client = client_for(admin_user)
    before = _order()
    for ids, why in (
        (before[:-1], "leaves some out"),
        ([*before[:-1], before[0]], "repeats"),
        ([*before[:-1], 999999], "does not exist"),
    ):
        r = client.call("PUT", "/routing-rules/order", {"ids": ids})
        assert_problem(r, 422, "ids")
        assert why in r.json()["errors"]["ids"][0]
        assert _order() == before
    r = client.call("PUT", "/routing-rules/order", {"ids": before[::-1]})
    assert r.status_code == 200 and [x["id"] for x in r.json()] == before[::-1]
    assert _order() == before[::-1]
    assert [x["position"] for x in r.json()] == [0, 1, 2, 3]


def test_category_defaults(client_for, admin_user, agent, l2):
    category = tickets.create_category(slug="net-defaults", name_en="Network", name_fr="Réseau", by=None)
    body = {"category": category.pk, "level": 2, "group": l2.pk}
    assert_problem(client_for(agent).call("POST", "/category-defaults", body), 403)
    client = client_for(admin_user)
    wrong = client.call("POST", "/category-defaults", {**body, "level": 3})
    assert_problem(wrong, 422, "group")
    made = client.call("POST", "/category-defaults", body)
    assert made.status_code == 201 and made.json()["group"] == l2.pk
    assert client.get(f"{API}/category-defaults?category={category.pk}").json()["items"][0]["level"] == 2
    assert client.call("DELETE", f"/category-defaults/{made.json()['id']}").status_code == 204
    assert not CategoryLevelDefault.objects.exists()


# --- availability and absences ----------------------------------------------------------------------


def test_availability_own_team_or_admin(client_for, agent, agent_l2, manager, admin_user, requester):
    hours = [[["09:00", "17:00"]]] * 5 + [[], []]
    body = {"is_available": False, "working_hours": hours, "time_zone": "Europe/Paris", "max_open_tickets": 5}
    r = client_for(agent).call("PUT", f"/users/{agent.pk}/availability", body)
    assert r.status_code == 200, r.content
    assert r.json()["is_available"] is False and r.json()["max_open_tickets"] == 5
    assert client_for(manager).get(f"{API}/users/{agent.pk}/availability").json()["time_zone"] == "Europe/Paris"
    assert_problem(client_for(agent).call("PUT", f"/users/{agent_l2.pk}/availability", body), 404)
    assert_problem(client_for(manager).call("PUT", f"/users/{agent_l2.pk}/availability", body), 404)
    assert_problem(client_for(requester).get(f"{API}/users/{agent.pk}/availability"), 403)
    bad = client_for(admin_user).call("PUT", f"/users/{agent_l2.pk}/availability", {**body, "time_zone": "Mars/Base"})
    assert_problem(bad, 422, "time_zone")
    agent_l2.refresh_from_db()
    assert agent_l2.is_available and agent_l2.max_open_tickets is None


def test_absences_scoped_to_self_team_or_all(client_for, agent, agent_l2, manager, admin_user, requester):
    start = timezone.now() + timedelta(days=1)
    body = {"agent": agent.pk, "start": start.isoformat(), "end": (start + timedelta(days=2)).isoformat()}
    mine = client_for(agent).call("POST", "/absences", {**body, "reason": "Congés"})
    assert mine.status_code == 201, mine.content
    assert_problem(client_for(agent).call("POST", "/absences", {**body, "agent": agent_l2.pk}), 404)
    assert_problem(client_for(requester).get(f"{API}/absences"), 403)
    backwards = {**body, "end": (start - timedelta(hours=1)).isoformat()}
    assert_problem(client_for(agent).call("POST", "/absences", backwards), 422, "end")
    other = client_for(admin_user).call("POST", "/absences", {**body, "agent": agent_l2.pk})
    assert other.status_code == 201
    assert [a["agent"] for a in client_for(manager).get(f"{API}/absences").json()["items"]] == [agent.pk]
    assert [a["agent"] for a in client_for(agent_l2).get(f"{API}/absences").json()["items"]] == [agent_l2.pk]
    assert len(client_for(admin_user).get(f"{API}/absences?current=true").json()["items"]) == 2
    assert_problem(client_for(agent_l2).call("DELETE", f"/absences/{mine.json()['id']}"), 404)
    assert client_for(manager).call("DELETE", f"/absences/{mine.json()['id']}").status_code == 204
    assert list(Absence.objects.values_list("agent_id", flat=True)) == [agent_l2.pk]


def test_absences_list_in_few_queries(client_for, admin_user, django_assert_max_num_queries):
    start = timezone.now()
    for i in range(6):
        person = User.objects.create(email=f"p{i}@desk.test", role=User.Role.AGENT)
        routing.add_absence(person, by=None, start=start, end=start + timedelta(hours=i + 1))
    client = client_for(admin_user)
    with django_assert_max_num_queries(5):
        page = client.get(f"{API}/absences?limit=4").json()
    assert len(page["items"]) == 4 and page["next_cursor"]
