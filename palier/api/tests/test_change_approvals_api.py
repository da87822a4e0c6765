"""The change advisory board through the API: a change's stages, "my change approvals", the
decision (quorum, not asked, twice, rejection without a reason), delegations and the boards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from palier.api.tests.conftest import assert_problem
from palier.catalog.models import Approval, ApprovalDelegation
from palier.changes import services
from palier.changes.models import Change, ChangeApprovalStage, ChangeBoard
from palier.changes.services import boards
from palier.people import services as people
from palier.people.models import SupportGroup, User

pytestmark = pytest.mark.django_db
S = Change.Status
EN = {"Accept-Language": "en"}  # headers of ApiClient.call


def member(group: SupportGroup, name: str) -> User:
    user = people.create_user(
        email=f"{name.lower()}@desk.test", full_name=name, role=User.Role.AGENT, password="pw-x-123456!"
    )
    people.add_group_member(group, user=user)
    return user


@pytest.fixture
def cab(admin_user: User) -> tuple[ChangeBoard, list[User]]:
    group = people.create_group(name="CAB", level=2)
    people_on_board = [member(group, n) for n in ("Ana", "Ben", "Cyd")]
    board = boards.save_board(by=admin_user, name="CAB", group=group, rule="quorum", quorum=2)
    ChangeApprovalStage.objects.create(path="normal", board=board, order=1)
    return board, people_on_board


def waiting_change(by: User, title: str = "Upgrade the core switch") -> Change:
    start = timezone.now() + timedelta(days=3)
    change = services.create_change(
        by=by,
        kind="normal",
        title=title,
        planned_start=start,
        planned_end=start + timedelta(hours=2),
        implementation_plan="Upgrade",
        backout_plan="Downgrade",
    )
    change = services.transition_change(change, to=S.ASSESSMENT, by=by)
    return services.transition_change(change, to=S.AWAITING_APPROVAL, by=by)


def approval_of(user: User, change: Change) -> Approval:
    return Approval.objects.get(approver=user, step__subject_kind="change", step__subject_id=change.pk)


def decide(client: Any, approval: Approval, decision: str, comment: str = "") -> Any:
    return client.call(
        "POST", f"/approvals/changes/{approval.pk}/decision", {"decision": decision, "comment": comment}, **EN
    )


def test_a_requester_and_a_read_token_cannot_decide(
    agent: User, requester: User, cab: tuple[ChangeBoard, list[User]], token_client: Callable[..., Any]
) -> None:
    _board, (ana, _ben, _cyd) = cab
    change = waiting_change(agent)
    approval = approval_of(ana, change)
    assert_problem(token_client(requester).call("GET", "/approvals/changes", **EN), 403)
    assert_problem(token_client(requester).call("GET", f"/changes/{change.pk}/approvals", **EN), 403)
    assert_problem(decide(token_client(requester), approval, "approved"), 403)
    body = assert_problem(decide(token_client(ana, scope="read"), approval, "approved"), 403)
    assert "read-only" in body["detail"]
    assert Approval.objects.get(pk=approval.pk).decision == "pending"


def test_someone_not_asked_gets_403_and_nothing_changes(
    agent: User, cab: tuple[ChangeBoard, list[User]], token_client: Callable[..., Any]
) -> None:
    _board, (ana, _ben, _cyd) = cab
    change = waiting_change(agent)
    approval = approval_of(ana, change)
    body = assert_problem(decide(token_client(agent), approval, "approved"), 403)
    assert "not asked" in body["detail"]
    assert Approval.objects.get(pk=approval.pk).decision == "pending"
    assert_problem(
        token_client(agent).call("POST", "/approvals/changes/999999/decision", {"decision": "approved"}, **EN), 404
    )


def test_quorum_two_of_three_through_the_api(
    agent: User, cab: tuple[ChangeBoard, list[User]], token_client: Callable[..., Any]
) -> None:
    _board, (ana, ben, cyd) = cab
    change = waiting_change(agent)
    mine = token_client(ana).call("GET", "/approvals/changes", **EN).json()["items"]
    assert [(i["change"]["reference"], i["board"], i["rule"], i["quorum"]) for i in mine] == [
        (change.reference, "CAB", "quorum", 2)
    ]
    first = decide(token_client(ana), approval_of(ana, change), "approved")
    assert first.status_code == 200, first.content
    assert first.json()["approval"]["via"] == "api"
    assert first.json()["change"]["status"] == "awaiting_approval"
    rejected = decide(token_client(ben), approval_of(ben, change), "rejected", "Not on a Friday")
    assert rejected.json()["change"]["status"] == "awaiting_approval"  # a quorum of 2 is still reachable
    last = decide(token_client(cyd), approval_of(cyd, change), "approved")
    assert last.json()["change"]["status"] == "approved"
    stages = token_client(agent).call("GET", f"/changes/{change.pk}/approvals", **EN).json()["stages"]
    assert [(s["board"], s["rule"], s["quorum"], s["state"]) for s in stages] == [("CAB", "quorum", 2, "approved")]
    assert {a["approver"]["name"]: (a["decision"], a["comment"]) for a in stages[0]["approvals"]} == {
        "Ana": ("approved", ""),
        "Ben": ("rejected", "Not on a Friday"),
        "Cyd": ("approved", ""),
    }
    assert token_client(ana).call("GET", "/approvals/changes", **EN).json()["items"] == []


def test_a_second_decision_is_a_409_and_a_rejection_needs_a_reason(
    agent: User, cab: tuple[ChangeBoard, list[User]], token_client: Callable[..., Any]
) -> None:
    _board, (ana, _ben, _cyd) = cab
    change = waiting_change(agent)
    approval = approval_of(ana, change)
    assert_problem(decide(token_client(ana), approval, "rejected"), 422, "comment")
    assert Approval.objects.get(pk=approval.pk).decision == "pending"
    assert_problem(decide(token_client(ana), approval, "maybe"), 422)
    assert decide(token_client(ana), approval, "approved").status_code == 200
    body = assert_problem(decide(token_client(ana), approval, "rejected", "Changed my mind"), 409)
    assert "already decided" in body["detail"]
    assert Approval.objects.get(pk=approval.pk).decision == "approved"


def test_the_pending_list_and_the_stages_take_constant_queries(
    agent: User,
    cab: tuple[ChangeBoard, list[User]],
    client_for: Callable[..., Any],
    django_assert_max_num_queries: Any,
) -> None:
    _board, (ana, _ben, _cyd) = cab
    changes = [waiting_change(agent, "Change 0")]
    client = client_for(ana)
    with django_assert_max_num_queries(6) as one:
        assert len(client.call("GET", "/approvals/changes", **EN).json()["items"]) == 1
    changes += [waiting_change(agent, f"Change {n}") for n in range(1, 4)]
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.call("GET", "/approvals/changes?limit=3", **EN).json()
    assert [i["change"]["id"] for i in page["items"]] == [c.pk for c in changes[:3]]
    rest = client.call("GET", f"/approvals/changes?cursor={page['next_cursor']}", **EN).json()
    assert [i["change"]["id"] for i in rest["items"]] == [changes[3].pk] and rest["next_cursor"] is None
    with django_assert_max_num_queries(7):
        stages = client.call("GET", f"/changes/{changes[0].pk}/approvals", **EN).json()["stages"]
    assert len(stages[0]["approvals"]) == 3


def test_delegations_are_named_listed_and_ended(
    agent: User, agent_l2: User, requester: User, token_client: Callable[..., Any]
) -> None:
    client = token_client(agent)
    today = timezone.localdate()
    body = {"deputy": agent_l2.pk, "starts_on": str(today), "ends_on": str(today + timedelta(days=5))}
    made = client.call("POST", "/approvals/delegations", body, **EN)
    assert made.status_code == 201, made.content
    assert made.json()["deputy"]["id"] == agent_l2.pk
    overlapping = dict(body, starts_on=str(today + timedelta(days=2)))
    assert_problem(client.call("POST", "/approvals/delegations", overlapping, **EN), 422, "starts_on")
    reversed_ = dict(body, starts_on=str(today + timedelta(days=9)))
    assert_problem(client.call("POST", "/approvals/delegations", reversed_, **EN), 422, "ends_on")
    assert_problem(client.call("POST", "/approvals/delegations", dict(body, deputy=requester.pk), **EN), 422, "deputy")
    assert [d["id"] for d in client.call("GET", "/approvals/delegations", **EN).json()] == [made.json()["id"]]
    assert_problem(token_client(agent_l2).call("DELETE", f"/approvals/delegations/{made.json()['id']}", **EN), 404)
    assert client.call("DELETE", f"/approvals/delegations/{made.json()['id']}", **EN).status_code == 204
    assert not ApprovalDelegation.objects.exists()


def test_the_boards_and_paths_are_readable_by_agents(
    agent: User, requester: User, cab: tuple[ChangeBoard, list[User]], token_client: Callable[..., Any]
) -> None:
    assert_problem(token_client(requester).call("GET", "/change-boards", **EN), 403)
    body = token_client(agent).call("GET", "/change-boards", **EN).json()
    assert [(b["name"], b["rule"], b["quorum"], b["members"]) for b in body["boards"]] == [("CAB", "quorum", 2, 3)]
    assert [(s["board_name"], s["min_risk"]) for s in body["normal"]] == [("CAB", "low")]
    assert body["emergency"] == []


def test_a_deputy_decides_on_behalf_of_an_absent_member(
    agent: User, agent_l2: User, cab: tuple[ChangeBoard, list[User]], token_client: Callable[..., Any]
) -> None:
    _board, (ana, _ben, _cyd) = cab
    today = timezone.localdate()
    away = {"deputy": agent_l2.pk, "starts_on": str(today), "ends_on": str(today + timedelta(days=2))}
    assert token_client(ana).call("POST", "/approvals/delegations", away, **EN).status_code == 201
    change = waiting_change(agent)
    assert token_client(ana).call("GET", "/approvals/changes", **EN).json()["items"] == []
    mine = token_client(agent_l2).call("GET", "/approvals/changes", **EN).json()["items"]
    assert [(i["change"]["id"], i["on_behalf_of"]["name"]) for i in mine] == [(change.pk, "Ana")]
    answer = token_client(agent_l2).call(
        "POST", f"/approvals/changes/{mine[0]['id']}/decision", {"decision": "approved"}, **EN
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["approval"]["on_behalf_of"]["name"] == "Ana"
