"""People and reference data through the administration API: users, organisations, support groups
and their members, categories, the backups' status (palier/api/admin/people.py)."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.audit.models import AuditEvent
from palier.people import services as people
from palier.people.models import Membership, Organisation, SupportGroup, User
from palier.routing import services as routing
from palier.sla import services as sla
from palier.tickets import services as tickets
from palier.tickets.models import Category
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def _etag(client, path):
    r = client.get(f"{API}{path}")
    assert r.status_code == 200, r.content
    return r["ETag"]


# --- users ----------------------------------------------------------------------------------------


def test_only_administrators_change_or_deactivate_people(client_for, requester, agent, manager, requester_b):
    for user in (requester, agent, manager):
        client = client_for(user)
        assert_problem(client.call("PATCH", f"/users/{requester_b.pk}", {"role": "admin"}, **{"If-Match": "x"}), 403)
        assert_problem(client.call("DELETE", f"/users/{requester_b.pk}"), 403)
        assert_problem(client.call("POST", f"/users/{requester_b.pk}/mfa-reset"), 403)
    assert_problem(client_for(requester).call("PATCH", f"/users/{requester.pk}", {"role": "admin"}), 403)
    requester_b.refresh_from_db()
    assert requester_b.role == "requester" and requester_b.is_active


def test_an_admin_changes_role_language_organisation_and_groups(client_for, admin_user, agent, other_org, l2, triage):
    client = client_for(admin_user)
    path = f"/users/{agent.pk}"
    etag = _etag(client, path)
    body = {"role": "manager", "language": "en", "organisation": other_org.pk, "groups": [l2.pk]}
    r = client.call("PATCH", path, body, **{"If-Match": etag})
    assert r.status_code == 200, r.content
    shown = r.json()
    assert shown["role"] == "manager" and shown["language"] == "en"
    assert shown["organisation"]["id"] == other_org.pk and [g["id"] for g in shown["groups"]] == [l2.pk]
    assert r["ETag"] != etag
    assert set(Membership.objects.filter(user=agent).values_list("group_id", flat=True)) == {l2.pk}
    assert AuditEvent.objects.filter(action="user.role_changed", target_id=str(agent.pk)).exists()
    stale = client.call("PATCH", path, {"full_name": "X"}, **{"If-Match": etag})
    assert_problem(stale, 412)


def test_bad_changes_of_a_user_are_refused_and_change_nothing(client_for, admin_user, agent, org, other_org):
    client = client_for(admin_user)
    department = people.create_department(organisation=org, name="Finance")
    path = f"/users/{agent.pk}"
    etag = _etag(client, path)
    for body, field in (
        ({"role": "king"}, "role"),
        ({"groups": [999999]}, "groups"),
        ({"organisation": other_org.pk, "department": department.pk}, "department"),
        ({"full_name": None}, "full_name"),
        ({"password": "x"}, "password"),
    ):
        assert_problem(client.call("PATCH", path, body, **{"If-Match": etag}), 422, field)
    myself = client.call("PATCH", f"/users/{admin_user.pk}", {"role": "agent"}, **{"If-Match": "*"})
    assert myself.status_code in (412, 422)
    agent.refresh_from_db()
    assert agent.role == "agent" and agent.organisation_id is None


def test_delete_deactivates_and_patch_reactivates(client_for, admin_user, requester):
    client = client_for(admin_user)
    assert client.call("DELETE", f"/users/{requester.pk}").status_code == 204
    requester.refresh_from_db()
    assert not requester.is_active and User.objects.filter(pk=requester.pk).exists()
    etag = _etag(client, f"/users/{requester.pk}")
    r = client.call("PATCH", f"/users/{requester.pk}", {"is_active": True}, **{"If-Match": etag})
    assert r.status_code == 200 and r.json()["is_active"] is True
    refused = client.call("DELETE", f"/users/{admin_user.pk}")
    assert_problem(refused, 403)
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_mfa_reset_is_audited(client_for, admin_user, agent):
    assert client_for(admin_user).call("POST", f"/users/{agent.pk}/mfa-reset").status_code == 204
    assert AuditEvent.objects.filter(action="auth.mfa_reset", target_id=str(agent.pk)).exists()
    assert_problem(client_for(admin_user).call("POST", "/users/999999/mfa-reset"), 404)


def test_people_read_their_own_profile_with_an_etag(client_for, requester, requester_b):
    client = client_for(requester)
    r = client.get(f"{API}/users/{requester.pk}")
    assert r.status_code == 200 and r["ETag"]
    assert client.get(f"{API}/users/{requester_b.pk}").status_code == 404


# --- organisations ---------------------------------------------------------------------------------


def test_organisations_read_and_change(client_for, admin_user, agent, org, other_org):
    assert_problem(client_for(agent).call("PATCH", f"/organisations/{org.pk}", {"name": "X"}), 403)
    client = client_for(admin_user)
    etag = _etag(client, f"/organisations/{org.pk}")
    r = client.call("PATCH", f"/organisations/{org.pk}", {"share_tickets": True}, **{"If-Match": etag})
    assert r.status_code == 200 and r.json()["share_tickets"] is True and r.json()["name"] == "Acme"
    etag = r["ETag"]
    taken = client.call("PATCH", f"/organisations/{org.pk}", {"name": "globex"}, **{"If-Match": etag})
    assert taken.status_code == 409
    assert Organisation.objects.get(pk=org.pk).name == "Acme"


# --- groups ---------------------------------------------------------------------------------------


def test_groups_list_filter_and_page_in_few_queries(client_for, agent, django_assert_max_num_queries):
    for i in range(6):
        people.create_group(name=f"Team {i}", level=2, manager=agent)
    client = client_for(agent)
    with django_assert_max_num_queries(8):
        first = client.get(f"{API}/groups?level=2&limit=4").json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = client.get(f"{API}/groups?level=2&limit=4&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 2
    assert all(g["manager"]["id"] == agent.pk for g in first["items"] + rest["items"])


def test_requesters_cannot_read_groups(client_for, requester, triage):
    assert_problem(client_for(requester).get(f"{API}/groups"), 403)
    assert_problem(client_for(requester).get(f"{API}/groups/{triage.pk}"), 403)
    assert_problem(client_for(requester).get(f"{API}/groups/{triage.pk}/members"), 403)


def test_create_a_group_with_members_once(client_for, admin_user, agent, agent_l2):
    client = client_for(admin_user)
    body = {"name": "Databases", "level": 3, "members": [agent.pk, agent_l2.pk]}
    r = client.call("POST", "/groups", body, **{"Idempotency-Key": "g-1"})
    assert r.status_code == 201, r.content
    again = client.call("POST", "/groups", body, **{"Idempotency-Key": "g-1"})
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    group = SupportGroup.objects.get(name="Databases")
    assert set(group.members.values_list("pk", flat=True)) == {agent.pk, agent_l2.pk}
    members = client.get(f"{API}/groups/{group.pk}/members").json()["items"]
    assert {m["user"]["id"] for m in members} == {agent.pk, agent_l2.pk} and {m["level"] for m in members} == {3}


def test_members_list_in_few_queries(client_for, admin_user, django_assert_max_num_queries):
    group = people.create_group(name="Big", level=1)
    for i in range(8):
        user = people.create_user(email=f"a{i}@desk.test", role=User.Role.AGENT)
        people.add_group_member(group, user=user)
    client = client_for(admin_user)
    with django_assert_max_num_queries(6):
        page = client.get(f"{API}/groups/{group.pk}/members?limit=5").json()
    assert len(page["items"]) == 5 and page["next_cursor"]


def test_patch_a_group_keeps_what_is_not_sent(client_for, admin_user, agent, l2, agent_l2):
    client = client_for(admin_user)
    etag = _etag(client, f"/groups/{l2.pk}")
    r = client.call("PATCH", f"/groups/{l2.pk}", {"assignment_strategy": "least_loaded"}, **{"If-Match": etag})
    assert r.status_code == 200, r.content
    assert r.json()["name"] == "Network L2" and r.json()["assignment_strategy"] == "least_loaded"
    assert list(l2.members.values_list("pk", flat=True)) == [agent_l2.pk]
    vendor = client.call("PATCH", f"/groups/{l2.pk}", {"is_vendor": True}, **{"If-Match": r["ETag"]})
    assert_problem(vendor, 422, "is_vendor")
    l2.refresh_from_db()
    assert not l2.is_vendor


def test_delete_a_group_refused_while_tickets_or_rules_need_it(client_for, admin_user, requester, l2):
    client = client_for(admin_user)
    rule = routing.create_rule(by=None, name="Network", group=l2, words="wifi")
    refused = client.call("DELETE", f"/groups/{l2.pk}")
    assert refused.status_code == 409 and "Network" in refused.json()["detail"]
    routing.delete_rule(rule, by=None)
    ticket = make_ticket(requester)
    tickets.move_to_group(ticket, group=l2, by=None, auto_assign=False)
    refused = client.call("DELETE", f"/groups/{l2.pk}")
    assert refused.status_code == 409 and "tickets" in refused.json()["detail"]
    assert SupportGroup.objects.filter(pk=l2.pk).exists()


def test_delete_a_group_refused_while_an_sla_policy_escalates_to_it(client_for, admin_user, l2):
    calendar = sla.create_calendar(name="Always", always_open=True, by=None)
    sla.create_policy(
        name="Escalating",
        calendar=calendar,
        first_response_minutes=5,
        resolution_minutes=60,
        breach_actions=[{"action": "escalate_group", "group": l2.pk}],
        by=None,
    )
    refused = client_for(admin_user).call("DELETE", f"/groups/{l2.pk}")
    assert refused.status_code == 409 and "Escalating" in refused.json()["detail"]
    assert SupportGroup.objects.filter(pk=l2.pk).exists()


def test_delete_an_unused_group(client_for, admin_user, agent):
    group = people.create_group(name="Spare", level=2)
    people.add_group_member(group, user=agent)
    assert client_for(admin_user).call("DELETE", f"/groups/{group.pk}").status_code == 204
    assert not SupportGroup.objects.filter(pk=group.pk).exists()
    assert AuditEvent.objects.filter(action="deleted", target_label="Spare").exists()


# --- categories -----------------------------------------------------------------------------------


def test_categories_rename_move_and_deactivate(client_for, admin_user, agent):
    hardware = tickets.create_category(slug="hw", name_en="Hardware", name_fr="Matériel", by=None)
    printers = tickets.create_category(slug="printers", name_en="Printers", name_fr="Imprimantes", by=None)
    assert_problem(client_for(agent).call("PATCH", f"/categories/{printers.pk}", {"name_en": "X"}), 403)
    client = client_for(admin_user)
    etag = _etag(client, f"/categories/{printers.pk}")
    r = client.call("PATCH", f"/categories/{printers.pk}", {"parent": hardware.pk}, **{"If-Match": etag})
    assert r.status_code == 200 and r.json()["parent"] == hardware.pk and r.json()["name_fr"] == "Imprimantes"
    under = client.call("PATCH", f"/categories/{hardware.pk}", {"parent": printers.pk}, **{"If-Match": "*"})
    assert under.status_code in (412, 422)
    etag = _etag(client, f"/categories/{hardware.pk}")
    off = client.call("PATCH", f"/categories/{hardware.pk}", {"is_active": False}, **{"If-Match": etag})
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert not Category.objects.get(pk=printers.pk).is_active  # sub-categories follow
    etag = _etag(client, f"/categories/{printers.pk}")
    refused = client.call("PATCH", f"/categories/{printers.pk}", {"is_active": True}, **{"If-Match": etag})
    assert_problem(refused, 422, "is_active")


# --- backups --------------------------------------------------------------------------------------


def test_backups_status_for_administrators_only(client_for, admin_user, agent):
    assert_problem(client_for(agent).get(f"{API}/backups/status"), 403)
    body = client_for(admin_user).get(f"{API}/backups/status").json()
    assert body["stale"] is True and body["last"] is None and body["outbox"] == []


def test_a_french_administrator_gets_the_message_of_the_refusal(client_for, admin_user, l2, requester):
    admin_user.language = "fr"
    admin_user.save(update_fields=["language"])
    tickets.move_to_group(make_ticket(requester), group=l2, by=None, auto_assign=False)
    r = client_for(admin_user).call("DELETE", f"/groups/{l2.pk}")
    assert r.status_code == 409 and r.json()["detail"]
