"""The problems and changes API: same rules as the pages, ETag/If-Match, Idempotency-Key,
all-or-nothing links, lifecycle refusals with a clear message and nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from palier.api.tests.conftest import assert_problem
from palier.assets.tests.builders import make_asset
from palier.changes.models import Change, ChangeTemplate, ChangeTicket, RiskQuestion
from palier.problems import services as problem_services
from palier.problems.models import Problem, ProblemComment, ProblemIncident
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}


def _incidents(requester, n):
    return [make_ticket(requester, subject=f"VPN drops {i}", kind="incident") for i in range(n)]


# --- problems -------------------------------------------------------------------------------------


def test_requesters_and_read_tokens_cannot_touch_problems(client_for, token_client, agent, requester):
    problem = problem_services.create_problem(by=agent, title="VPN gateway drops")
    api = client_for(requester)
    assert_problem(api.call("GET", "/problems", **EN), 403)
    assert_problem(api.call("GET", f"/problems/{problem.pk}", **EN), 403)
    assert_problem(api.call("POST", "/problems", {"title": "Mine"}, **EN), 403)
    assert_problem(api.call("GET", "/changes", **EN), 403)
    reader = token_client(agent, scope="read")
    assert reader.call("GET", f"/problems/{problem.pk}").status_code == 200
    body = assert_problem(reader.call("POST", "/problems", {"title": "x"}, **EN), 403)
    assert "read-only" in body["detail"]
    assert Problem.objects.count() == 1
    assert_problem(client_for(agent).call("GET", "/problems/999999", **EN), 404)


def test_create_with_incidents_retry_etag_and_stale_patch(client_for, agent, requester, django_assert_max_num_queries):
    tickets = _incidents(requester, 3)
    asset = make_asset("VPN-GW-01", by=agent, name="VPN gateway")
    api = client_for(agent)
    body = {
        "title": "VPN gateway drops",
        "impact": "high",
        "urgency": "high",
        "incidents": [t.pk for t in tickets],
        "assets": [asset.pk],
    }
    first = api.call("POST", "/problems", body, **{"Idempotency-Key": "p-1"}, **EN)
    assert first.status_code == 201, first.content
    created = first.json()
    assert created["reference"].startswith("PRB-") and created["priority"] == 1
    assert created["incident_count"] == 3 and first["Location"].endswith(f"/problems/{created['id']}")
    again = api.call("POST", "/problems", body, **{"Idempotency-Key": "p-1"}, **EN)
    assert again.status_code == 200 and again.json()["id"] == created["id"]
    assert Problem.objects.count() == 1
    assert_problem(api.call("POST", "/problems", {**body, "title": "Other"}, **{"Idempotency-Key": "p-1"}, **EN), 422)

    pid = created["id"]
    with django_assert_max_num_queries(6):
        got = api.call("GET", f"/problems/{pid}")
    tag = got["ETag"]
    assert api.call("GET", f"/problems/{pid}", **{"If-None-Match": tag}).status_code == 304
    assert_problem(api.call("PATCH", f"/problems/{pid}", {"root_cause": "Firmware leak"}, **EN), 428, "version")
    changed = api.call(
        "PATCH",
        f"/problems/{pid}",
        {"root_cause": "Firmware leak", "workaround": "Reconnect"},
        **{"If-Match": tag},
        **EN,
    )
    assert changed.status_code == 200 and changed.json()["has_workaround"] and changed["ETag"] != tag
    assert_problem(api.call("PATCH", f"/problems/{pid}", {"workaround": "x"}, **{"If-Match": tag}, **EN), 412)
    assert Problem.objects.get(pk=pid).workaround == "Reconnect"
    assets = api.call("GET", f"/problems/{pid}/assets").json()
    assert [a["tag"] for a in assets] == ["VPN-GW-01"]


def test_transitions_out_of_order_and_by_the_wrong_role_change_nothing(client_for, agent, manager):
    problem = problem_services.create_problem(by=agent, title="VPN gateway drops")
    api = client_for(agent)
    body = assert_problem(
        client_for(manager).call("POST", f"/problems/{problem.pk}/transition", {"status": "closed"}, **EN), 409
    )
    assert "cannot go from" in body["detail"]
    assert_problem(
        api.call("POST", f"/problems/{problem.pk}/transition", {"status": "known_error"}, **EN),
        422,
        "root_cause",
        "workaround",
    )
    assert_problem(api.call("POST", f"/problems/{problem.pk}/transition", {"status": "resolved"}, **EN), 403)
    assert Problem.objects.get(pk=problem.pk).status == "new"
    moved = client_for(manager).call("POST", f"/problems/{problem.pk}/transition", {"status": "resolved"}, **EN)
    assert moved.status_code == 200 and moved.json()["status"] == "resolved"


def test_linking_incidents_is_all_or_nothing_and_lists_page(
    client_for, agent, requester, django_assert_max_num_queries
):
    problem = problem_services.create_problem(by=agent, title="VPN gateway drops")
    tickets = _incidents(requester, 4)
    api = client_for(agent)
    refused = api.call("POST", f"/problems/{problem.pk}/incidents", {"ids": [tickets[0].pk, 99999999]}, **EN)
    body = assert_problem(refused, 422, "tickets")
    assert "nothing was linked" in body["errors"]["tickets"][0]
    assert not ProblemIncident.objects.exists()
    done = api.call("POST", f"/problems/{problem.pk}/incidents", {"ids": [t.pk for t in tickets]}, **EN).json()
    assert done == {"linked": 4, "already": 0}
    again = api.call("POST", f"/problems/{problem.pk}/incidents", {"ids": [tickets[0].pk]}, **EN).json()
    assert again == {"linked": 0, "already": 1}
    with django_assert_max_num_queries(6):
        page = api.call("GET", f"/problems/{problem.pk}/incidents?limit=3").json()
    assert len(page["items"]) == 3 and page["next_cursor"]
    rest = api.call("GET", f"/problems/{problem.pk}/incidents?limit=3&cursor={page['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert api.call("DELETE", f"/problems/{problem.pk}/incidents/{tickets[0].pk}").status_code == 204
    assert ProblemIncident.objects.filter(problem=problem).count() == 3

    for n in range(4):
        problem_services.create_problem(by=agent, title=f"Printer stalls {n}")
    with django_assert_max_num_queries(6):
        listed = api.call("GET", "/problems?limit=3").json()
    assert len(listed["items"]) == 3 and listed["items"][0]["title"] == "Printer stalls 3"
    rest = api.call("GET", f"/problems?limit=3&cursor={listed['next_cursor']}").json()
    assert [p["title"] for p in rest["items"]] == ["Printer stalls 0", "VPN gateway drops"]
    found = api.call("GET", "/problems?q=vpn&status=new").json()["items"]
    assert [p["id"] for p in found] == [problem.pk] and found[0]["incident_count"] == 3
    assert_problem(api.call("GET", "/problems?status=bogus", **EN), 422, "status")


def test_comments_internal_and_public(client_for, agent):
    problem = problem_services.create_problem(by=agent, title="VPN gateway drops")
    api = client_for(agent)
    assert_problem(api.call("POST", f"/problems/{problem.pk}/comments", {"body": "  "}, **EN), 422, "body")
    made = api.call("POST", f"/problems/{problem.pk}/comments", {"body": "Vendor case 123", "internal": False})
    assert made.status_code == 201 and made.json()["internal"] is False
    listed = api.call("GET", f"/problems/{problem.pk}/comments").json()["items"]
    assert [c["body"] for c in listed] == ["Vendor case 123"] and listed[0]["author"]["email"] == agent.email
    assert ProblemComment.objects.count() == 1


# --- changes --------------------------------------------------------------------------------------


def test_change_create_window_retry_and_patch(client_for, agent, django_assert_max_num_queries):
    api = client_for(agent)
    start = timezone.now() + timedelta(days=3)
    bad = {
        "kind": "normal",
        "title": "Core switch",
        "planned_start": start.isoformat(),
        "planned_end": (start - timedelta(hours=1)).isoformat(),
    }
    assert_problem(api.call("POST", "/changes", bad, **EN), 422, "planned_end")
    assert not Change.objects.exists()
    body = {**bad, "planned_end": (start + timedelta(hours=2)).isoformat(), "implementation_plan": "Swap"}
    first = api.call("POST", "/changes", body, **{"Idempotency-Key": "c-1"}, **EN)
    assert first.status_code == 201, first.content
    again = api.call("POST", "/changes", body, **{"Idempotency-Key": "c-1"}, **EN)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    cid = first.json()["id"]
    with django_assert_max_num_queries(6):
        tag = api.call("GET", f"/changes/{cid}")["ETag"]
    assert_problem(api.call("PATCH", f"/changes/{cid}", {"reason": "EOL"}, **EN), 428)
    ok = api.call("PATCH", f"/changes/{cid}", {"reason": "End of life"}, **{"If-Match": tag}, **EN)
    assert ok.status_code == 200 and ok.json()["reason"] == "End of life"
    assert_problem(api.call("PATCH", f"/changes/{cid}", {"reason": "x"}, **{"If-Match": tag}, **EN), 412)
    assert_problem(api.call("POST", "/changes", {"kind": "standard", "title": "x"}, **EN), 422, "template")


def test_change_lifecycle_risk_and_links(client_for, agent, requester, manager):
    RiskQuestion.objects.update(is_active=False)  # the seeded questionnaire: this test brings its own
    template = ChangeTemplate.objects.create(
        name_fr="Redémarrer", name_en="Restart the web farm", implementation_plan="Rolling restart", duration_minutes=30
    )
    question = RiskQuestion.objects.create(
        text_fr="Q", text_en="Is it reversible?", choices=[{"value": "no", "en": "No", "fr": "Non", "score": 9}]
    )
    api = client_for(agent)
    assert "Restart the web farm" in [t["name"] for t in api.call("GET", "/changes/templates", **EN).json()]
    questions = api.call("GET", "/changes/risk-questions", **EN).json()
    assert questions[0]["choices"] == [{"value": "no", "label": "No", "score": 9}]

    start = (timezone.now() + timedelta(days=1)).isoformat()
    std = api.call(
        "POST", "/changes", {"kind": "standard", "template": template.pk, "planned_start": start}, **EN
    ).json()
    assert std["title"] == "Restart the web farm"
    assert api.call("POST", f"/changes/{std['id']}/transition", {"status": "scheduled"}).json()["status"] == "scheduled"

    normal = api.call("POST", "/changes", {"kind": "normal", "title": "Upgrade"}).json()
    cid = normal["id"]
    body = assert_problem(api.call("POST", f"/changes/{cid}/transition", {"status": "approved"}, **EN), 409)
    assert "board" in body["detail"]
    assert_problem(api.call("POST", f"/changes/{cid}/risk", {"answers": {}}, **EN), 422, f"q{question.pk}")
    risked = api.call("POST", f"/changes/{cid}/risk", {"answers": {str(question.pk): "no"}}).json()
    assert risked["risk"] == "high" and risked["risk_score"] == 9
    assert_problem(api.call("POST", f"/changes/{cid}/transition", {"status": "closed"}, **EN), 422, "outcome")
    closed = api.call("POST", f"/changes/{cid}/transition", {"status": "closed", "outcome": "cancelled"}).json()
    assert closed["status"] == "closed" and closed["outcome"] == "cancelled"

    incident = make_ticket(requester, subject="Site down", kind="incident")
    problem = problem_services.create_problem(by=agent, title="Web farm leak")
    asset = make_asset("WEB-01", by=agent)
    sid = std["id"]
    assert_problem(api.call("POST", f"/changes/{sid}/tickets", {"ticket": 99999999}, **EN), 404)
    assert_problem(api.call("POST", f"/changes/{sid}/assets", {"ids": [asset.pk, 99999999]}, **EN), 422, "assets")
    api.call("POST", f"/changes/{sid}/tickets", {"ticket": incident.pk, "relation": "caused"})
    api.call("POST", f"/changes/{sid}/problems", {"problem": problem.pk, "relation": "caused"})
    api.call("POST", f"/changes/{sid}/assets", {"ids": [asset.pk]})
    links = api.call("GET", f"/changes/{sid}/links").json()
    assert links["tickets"][0]["relation"] == "caused" and links["problems"][0]["reference"] == problem.reference
    assert [a["tag"] for a in links["assets"]] == ["WEB-01"]
    assert ChangeTicket.objects.filter(relation="caused").count() == 1


def test_change_list_filters_and_pages(client_for, agent, django_assert_max_num_queries):
    now = timezone.now()
    for n in range(5):
        Change.objects.create(
            number=900 + n,
            title=f"Change {n}",
            kind="emergency" if n == 4 else "normal",
            planned_start=now + timedelta(days=n),
            planned_end=now + timedelta(days=n, hours=2),
        )
    api = client_for(agent)
    with django_assert_max_num_queries(6):
        page = api.call("GET", "/changes?limit=2").json()
    assert [c["title"] for c in page["items"]] == ["Change 4", "Change 3"] and page["next_cursor"]
    assert [c["title"] for c in api.call("GET", "/changes?kind=emergency").json()["items"]] == ["Change 4"]
    frm = (now + timedelta(days=1, hours=1)).isoformat().replace("+", "%2B")
    to = (now + timedelta(days=2, hours=1)).isoformat().replace("+", "%2B")
    titles = [c["title"] for c in api.call("GET", f"/changes?from={frm}&to={to}").json()["items"]]
    assert titles == ["Change 2", "Change 1"]
    assert_problem(api.call("GET", "/changes?risk=huge", **EN), 422, "risk")
