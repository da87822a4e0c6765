"""The people router: me, users, tokens, organisations, groups."""

from __future__ import annotations

from palier.api.tests.conftest import API, ApiClient, assert_problem
from palier.people import services as people
from palier.people.models import ApiToken, Membership, Organisation, SupportGroup, User

# --- me -------------------------------------------------------------------------------------------


def test_me_shows_profile_and_groups(client_for, agent, triage):
    body = client_for(agent).get(f"{API}/users/me").json()
    assert (body["id"], body["email"], body["role"], body["name"]) == (agent.pk, "lea@desk.test", "agent", "Léa L1")
    assert [g["id"] for g in body["groups"]] == [triage.pk]


def test_update_me(client_for, requester):
    r = client_for(requester).call("PATCH", "/users/me", {"full_name": "Alice M.", "language": "en", "phone": "+33 1"})
    assert r.status_code == 200, r.content
    requester.refresh_from_db()
    assert (requester.full_name, requester.language, requester.phone) == ("Alice M.", "en", "+33 1")


def test_update_me_cannot_change_role_or_use_unknown_language(client_for, requester):
    client = client_for(requester)
    assert_problem(client.call("PATCH", "/users/me", {"role": "admin"}), 422, "role")
    assert_problem(client.call("PATCH", "/users/me", {"language": "de"}), 422, "language")
    requester.refresh_from_db()
    assert requester.role == "requester"


# --- users ----------------------------------------------------------------------------------------


def test_agents_search_users(client_for, agent, requester, requester_b):
    client = client_for(agent)
    found = client.get(f"{API}/users?q=alice").json()["items"]
    assert [u["id"] for u in found] == [requester.pk]
    assert [u["id"] for u in client.get(f"{API}/users?q=acme.test").json()["items"]] == [requester.pk, requester_b.pk]
    assert {u["role"] for u in client.get(f"{API}/users?role=agent").json()["items"]} == {"agent"}


def test_user_search_ignores_accents_and_case(client_for, agent):
    helene = people.create_user(email="h.roux@acme.test", full_name="Hélène Roux")
    client = client_for(agent)
    for q in ("helene", "HÉLÈNE", "roux helene"):
        assert [u["id"] for u in client.get(f"{API}/users", {"q": q}).json()["items"]] == [helene.pk], q


def test_user_list_is_paginated(client_for, agent):
    for i in range(7):
        people.create_user(email=f"user{i}@x.test", full_name=f"User {i}")
    client = client_for(agent)
    seen, cursor = [], None
    while True:
        body = client.get(f"{API}/users", {"q": "user", "limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        seen += [u["email"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"user{i}@x.test" for i in range(7)]


def test_requesters_cannot_search_users(client_for, requester):
    assert_problem(client_for(requester).get(f"{API}/users?q=a"), 403)


def test_user_detail_for_agents_only(client_for, agent, requester, requester_b):
    assert client_for(agent).get(f"{API}/users/{requester.pk}").json()["email"] == "alice@acme.test"
    assert client_for(requester).get(f"{API}/users/{requester.pk}").status_code == 200
    assert_problem(client_for(requester).get(f"{API}/users/{requester_b.pk}"), 404)
    assert_problem(client_for(agent).get(f"{API}/users/99999"), 404)


def test_admin_creates_users(client_for, admin_user, org):
    r = client_for(admin_user).call(
        "POST", "/users", {"email": "New@Acme.test", "full_name": "Nouveau", "role": "agent", "organisation": org.pk}
    )
    assert r.status_code == 201, r.content
    assert r.json()["email"] == "new@acme.test"
    assert User.objects.get(email="new@acme.test").role == "agent"


def test_user_creation_errors(client_for, admin_user, agent, requester):
    admin = client_for(admin_user)
    assert_problem(admin.call("POST", "/users", {"email": "not-an-email"}), 422, "email")
    assert_problem(admin.call("POST", "/users", {"email": "alice@acme.test"}), 409, "email")
    assert_problem(admin.call("POST", "/users", {"email": "x@y.test", "role": "boss"}), 422, "role")
    assert_problem(admin.call("POST", "/users", {"email": "x@y.test", "password": "123"}), 422, "password")
    assert_problem(admin.call("POST", "/users", {"email": "x@y.test", "organisation": 999}), 422, "organisation")
    assert_problem(client_for(agent).call("POST", "/users", {"email": "x@y.test"}), 403)
    assert not User.objects.filter(email="x@y.test").exists()


# --- tokens ---------------------------------------------------------------------------------------


def test_token_lifecycle(client_for, requester):
    client = client_for(requester)
    r = client.call("POST", "/tokens", {"name": "backup script", "scope": "write"})
    assert r.status_code == 201
    created = r.json()
    assert created["secret"].startswith("plr_")
    listed = client.get(f"{API}/tokens").json()
    assert [t["id"] for t in listed] == [created["id"]]
    assert "secret" not in listed[0]
    bearer = ApiClient(headers={"Authorization": f"Bearer {created['secret']}"})
    assert bearer.get(f"{API}/users/me").json()["id"] == requester.pk
    assert client.delete(f"{API}/tokens/{created['id']}").status_code == 204
    assert_problem(bearer.get(f"{API}/users/me"), 401)
    assert client.get(f"{API}/tokens").json()[0]["revoked_at"] is not None


def test_token_scope_is_validated(client_for, requester):
    assert_problem(client_for(requester).call("POST", "/tokens", {"scope": "admin"}), 422, "scope")


def test_cannot_revoke_someone_elses_token(client_for, requester, requester_b):
    token = people.create_api_token(requester_b).token
    assert_problem(client_for(requester).delete(f"{API}/tokens/{token.pk}"), 404)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --- organisations --------------------------------------------------------------------------------


def test_organisations(client_for, admin_user, agent, requester, org, other_org):
    assert [o["name"] for o in client_for(agent).get(f"{API}/organisations").json()["items"]] == ["Acme", "Globex"]
    assert [o["id"] for o in client_for(requester).get(f"{API}/organisations").json()["items"]] == [org.pk]
    r = client_for(admin_user).call("POST", "/organisations", {"name": "Initech", "email_domain": "INITECH.test"})
    assert r.status_code == 201
    assert r.json()["email_domain"] == "initech.test"
    assert_problem(client_for(admin_user).call("POST", "/organisations", {"name": "acme"}), 409, "name")
    assert_problem(client_for(agent).call("POST", "/organisations", {"name": "Umbrella"}), 403)
    assert not Organisation.objects.filter(name="Umbrella").exists()


# --- groups ---------------------------------------------------------------------------------------


def test_groups_listing_and_creation(client_for, admin_user, agent, requester, triage, l2):
    assert [g["id"] for g in client_for(agent).get(f"{API}/groups").json()["items"]] == [triage.pk, l2.pk]
    assert_problem(client_for(requester).get(f"{API}/groups"), 403)
    admin = client_for(admin_user)
    r = admin.call("POST", "/groups", {"name": "Vendor", "level": 4, "is_vendor": True, "manager": agent.pk})
    assert r.status_code == 201, r.content
    assert r.json()["manager"]["id"] == agent.pk
    assert_problem(admin.call("POST", "/groups", {"name": "Bad", "level": 2, "is_vendor": True}), 422, "is_vendor")
    assert_problem(admin.call("POST", "/groups", {"name": "Bad", "level": 9}), 422, "level")
    assert_problem(client_for(agent).call("POST", "/groups", {"name": "Mine"}), 403)


def test_group_members(client_for, admin_user, agent, requester, l2):
    admin = client_for(admin_user)
    assert admin.call("POST", f"/groups/{l2.pk}/members", {"user": agent.pk}).status_code == 204
    assert Membership.objects.filter(group=l2, user=agent).exists()
    assert_problem(admin.call("POST", f"/groups/{l2.pk}/members", {"user": requester.pk}), 422, "user")
    assert_problem(admin.call("POST", "/groups/9999/members", {"user": agent.pk}), 404)
    assert_problem(client_for(agent).delete(f"{API}/groups/{l2.pk}/members/{agent.pk}"), 403)
    assert admin.delete(f"{API}/groups/{l2.pk}/members/{agent.pk}").status_code == 204
    assert not SupportGroup.objects.get(pk=l2.pk).members.filter(pk=agent.pk).exists()
