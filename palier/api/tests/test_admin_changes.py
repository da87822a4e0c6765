"""Change and problem administration through the API: boards, approval stages and their order,
templates, risk questions and their order, the risk thresholds and the candidates' settings."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.changes.models import ChangeApprovalStage, ChangeBoard, ChangeSettings, ChangeTemplate, RiskQuestion
from palier.people import services as people
from palier.problems.models import ProblemSettings

CHOICES = [{"value": "no", "fr": "Non", "en": "No", "score": 0}, {"value": "yes", "fr": "Oui", "en": "Yes", "score": 5}]


@pytest.fixture
def cab(db):
    return people.create_group(name="CAB", level=2)


def test_agents_and_managers_cannot_administer_changes(client_for, agent, manager, cab):
    for user in (agent, manager):
        client = client_for(user)
        assert_problem(client.call("POST", "/change-boards", {"name": "B", "group": cab.pk}), 403)
        assert_problem(
            client.call("POST", "/changes/templates", {"name_fr": "a", "name_en": "a", "implementation_plan": "x"}), 403
        )
        assert_problem(
            client.call("PUT", "/changes/settings", {"medium_from": 1, "high_from": 2, "critical_from": 3}), 403
        )
        assert_problem(client.call("PUT", "/change-approval-stages/order", {"ids": []}), 403)
    assert not ChangeBoard.objects.exists() and not ChangeTemplate.objects.filter(name_fr="a").exists()


def test_boards_and_the_approval_path(client_for, admin_user, cab):
    client = client_for(admin_user)
    made = client.call("POST", "/change-boards", {"name": "CAB", "group": cab.pk, "rule": "any"})
    assert made.status_code == 201, made.content
    board = made.json()
    assert_problem(
        client.call("POST", "/change-boards", {"name": "Q", "group": cab.pk, "rule": "quorum", "quorum": 3}),
        422,
        "quorum",
    )
    renamed = client.call("PATCH", f"/change-boards/{board['id']}", {"name": "Main CAB"}, **{"If-Match": made["ETag"]})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Main CAB" and renamed.json()["group"] == cab.pk
    assert client.get(f"{API}/change-boards").json()["boards"][0]["name"] == "Main CAB"  # the older list still answers
    stages = [
        client.call(
            "POST", "/change-approval-stages", {"path": "normal", "board": board["id"], "min_risk": risk}
        ).json()
        for risk in ("low", "high")
    ]
    ids = [s["id"] for s in stages]
    assert client.call("PUT", "/change-approval-stages/order", {"ids": ids[::-1]}).status_code == 204
    assert list(ChangeApprovalStage.objects.order_by("order").values_list("pk", flat=True)) == ids[::-1]
    for bad in ([ids[0]], [ids[0], ids[0]], [*ids, 999_999]):
        assert_problem(client.call("PUT", "/change-approval-stages/order", {"ids": bad}), 422, "ids")
    assert list(ChangeApprovalStage.objects.order_by("order").values_list("pk", flat=True)) == ids[::-1]
    listed = client.get(f"{API}/change-approval-stages?path=normal").json()["items"]
    assert [s["id"] for s in listed] == ids[::-1]
    assert client.call("DELETE", f"/change-approval-stages/{ids[0]}").status_code == 204


def test_templates_are_created_edited_and_switched_off(client_for, admin_user, cab):
    client = client_for(admin_user)
    body = {"name_fr": "Redémarrage", "name_en": "Restart", "implementation_plan": "Restart it", "group": cab.pk}
    made = client.call("POST", "/changes/templates", body, **{"Idempotency-Key": "t1"})
    assert made.status_code == 201, made.content
    assert client.call("POST", "/changes/templates", body, **{"Idempotency-Key": "t1"}).status_code == 200
    pk = made.json()["id"]
    assert_problem(
        client.call("POST", "/changes/templates", {**body, "implementation_plan": ""}), 422, "implementation_plan"
    )
    off = client.call("PATCH", f"/changes/templates/{pk}", {"is_active": False}, **{"If-Match": made["ETag"]})
    assert off.status_code == 200 and off.json()["is_active"] is False and off.json()["name_en"] == "Restart"
    assert pk not in [t["id"] for t in client.get(f"{API}/changes/templates").json()]
    assert ChangeTemplate.objects.filter(name_en="Restart").count() == 1


def test_risk_questions_and_thresholds(client_for, admin_user):
    client = client_for(admin_user)
    before = list(RiskQuestion.objects.order_by("order").values_list("pk", flat=True))
    made = client.call(
        "POST", "/changes/risk-questions", {"text_fr": "Coupure ?", "text_en": "Outage?", "choices": CHOICES}
    )
    assert made.status_code == 201, made.content
    assert_problem(
        client.call("POST", "/changes/risk-questions", {"text_fr": "a", "text_en": "b", "choices": CHOICES[:1]}),
        422,
        "choices",
    )
    new_order = [made.json()["id"], *before]
    assert client.call("PUT", "/changes/risk-questions/order", {"ids": new_order}).status_code == 204
    assert list(RiskQuestion.objects.order_by("order").values_list("pk", flat=True)) == new_order
    settings = client.call(
        "PUT", "/changes/settings", {"medium_from": 5, "high_from": 9, "critical_from": 14, "remind_after_hours": 8}
    )
    assert settings.status_code == 200 and settings.json()["remind_after_hours"] == 8
    assert_problem(
        client.call("PUT", "/changes/settings", {"medium_from": 9, "high_from": 5, "critical_from": 14}),
        422,
        "high_from",
    )
    assert ChangeSettings.current().high_from == 9


def test_problem_candidate_settings_are_for_problem_managers(client_for, admin_user, manager, agent):
    assert_problem(
        client_for(agent).call(
            "PUT", "/problems/settings", {"candidate_incidents": 3, "candidate_days": 7, "rising_factor": 2.0}
        ),
        403,
    )
    client = client_for(manager)
    r = client.call("PUT", "/problems/settings", {"candidate_incidents": 3, "candidate_days": 7, "rising_factor": 2.5})
    assert r.status_code == 200, r.content
    assert client.get(f"{API}/problems/settings").json()["candidate_days"] == 7
    assert_problem(
        client.call("PUT", "/problems/settings", {"candidate_incidents": 0, "candidate_days": 7, "rising_factor": 2.0}),
        422,
        "candidate_incidents",
    )
    assert ProblemSettings.current().candidate_incidents == 3
