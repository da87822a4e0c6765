"""The change advisory board's pages: boards and path (admins only), deciding from the change
page's block, by the signed email link and on "My approvals", naming a deputy."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from palier.catalog import links
from palier.catalog.models import Approval, ApprovalDelegation
from palier.changes import services
from palier.changes.models import Change, ChangeApprovalStage, ChangeBoard
from palier.changes.services import boards
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import SupportGroup, User

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
S = Change.Status


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def cab(admin_user: User) -> tuple[ChangeBoard, list[User]]:
    group = people.create_group(name="CAB", level=2)
    members = []
    for name in ("Ana", "Ben"):
        user = people.create_user(
            email=f"{name.lower()}@desk.test",
            full_name=name,
            role=User.Role.AGENT,
            password="pw-x-123456!",
            language="en",
        )
        people.add_group_member(group, user=user)
        members.append(user)
    board = boards.save_board(by=admin_user, name="Weekly CAB", group=group, rule="all")
    ChangeApprovalStage.objects.create(path="normal", board=board, order=1)
    return board, members


@pytest.fixture
def waiting(agent: User, cab: tuple[ChangeBoard, list[User]]) -> Change:
    start = timezone.now() + timedelta(days=3)
    change = services.create_change(
        by=agent,
        kind="normal",
        title="Replace the VPN gateway",
        planned_start=start,
        planned_end=start + timedelta(hours=2),
        implementation_plan="Swap",
        backout_plan="Swap back",
    )
    change = services.transition_change(change, to=S.ASSESSMENT, by=agent)
    return services.transition_change(change, to=S.AWAITING_APPROVAL, by=agent)


def last_message(response: object) -> str:
    """The message the request added (earlier ones wait in the session: the change page that
    would show them is not followed)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]  # type: ignore[attr-defined]


def status(change: Change) -> str:
    change.refresh_from_db()
    return change.status


# --- boards and path -------------------------------------------------------------------------------


def test_board_pages_are_for_admins_only(client: Client, agent: User) -> None:
    c = signed_in(client, agent)
    assert c.get(reverse("cab:boards"), **EN).status_code == 404
    assert c.post(reverse("cab:boards"), {"name": "X", "rule": "any"}, **EN).status_code == 404
    assert c.get(reverse("cab:path"), **EN).status_code == 404
    assert not ChangeBoard.objects.exists()


def test_admin_defines_boards_and_the_path(client: Client, admin_user: User, l2: SupportGroup, agent_l2: User) -> None:
    c = signed_in(client, admin_user)
    too_many = {"name": "ECAB", "group": l2.pk, "rule": "quorum", "quorum": 3, "is_emergency": "on"}
    response = c.post(reverse("cab:boards"), too_many, **EN)
    assert response.status_code == 400 and "exceeds the board" in response.content.decode()
    assert not ChangeBoard.objects.exists()
    response = c.post(reverse("cab:boards"), {**too_many, "quorum": 1}, **EN)
    assert response.status_code == 302
    board = ChangeBoard.objects.get()
    assert board.is_emergency and board.quorum == 1
    page = c.get(reverse("cab:boards"), **EN).content.decode()
    assert "ECAB" in page and "Network L2 (1)" in page
    assert (
        c.post(reverse("cab:path"), {"path": "emergency", "board": board.pk, "min_risk": "low"}, **EN).status_code
        == 302
    )
    page = c.get(reverse("cab:path"), **EN).content.decode()
    assert re.search(r'id="cab-path-emergency".*ECAB', page, re.S)
    assert "No stage: these changes cannot be sent for approval." in page  # the normal path is empty


# --- deciding from the change page ----------------------------------------------------------------


def render_block(change: Change, user: User) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return Template('{% include "agent/changes/_approvals.html" %}').render(
        Context({"change": change, "request": request, "csrf_token": "t"})
    )


def test_the_block_shows_the_form_to_board_members_only(
    waiting: Change, cab: tuple[ChangeBoard, list[User]], agent: User, django_assert_max_num_queries: object
) -> None:
    _board, (ana, _ben) = cab
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        html = render_block(waiting, ana)
    assert "Weekly CAB" in html and 'id="cab-decision"' in html and "Ana" in html
    assert 'id="cab-decision"' not in render_block(waiting, agent)


def test_member_decides_from_the_page_and_others_cannot(
    client: Client, waiting: Change, cab: tuple[ChangeBoard, list[User]], agent: User
) -> None:
    _board, (ana, ben) = cab
    ana_approval = Approval.objects.get(approver=ana)
    # someone not on the board
    response = signed_in(client, agent).post(
        reverse("cab:decide", args=[ana_approval.pk]), {"decision": "approved"}, **EN
    )
    assert last_message(response) == "You are not asked to approve this request."
    assert Approval.objects.get(pk=ana_approval.pk).decision == "pending"
    # a rejection needs its reason
    response = signed_in(client, ana).post(
        reverse("cab:decide", args=[ana_approval.pk]), {"decision": "rejected"}, **EN
    )
    assert "Say why you reject" in last_message(response) and status(waiting) == S.AWAITING_APPROVAL
    response = client.post(reverse("cab:decide", args=[ana_approval.pk]), {"decision": "approved"}, **EN)
    assert response.status_code == 302 and response["Location"].endswith(f"/agent/changes/{waiting.pk}/")
    assert last_message(response) == "You approved the change."
    # the double click
    response = client.post(reverse("cab:decide", args=[ana_approval.pk]), {"decision": "approved"}, **EN)
    assert last_message(response) == "This approval was already decided."
    assert status(waiting) == S.AWAITING_APPROVAL
    ben_approval = Approval.objects.get(approver=ben)
    signed_in(client, ben).post(reverse("cab:decide", args=[ben_approval.pk]), {"decision": "approved"}, **EN)
    assert status(waiting) == S.APPROVED
    assert Approval.objects.get(pk=ben_approval.pk).via == "page"


# --- the signed email link and "My approvals" ------------------------------------------------------


def test_email_link_decides_a_change_approval_once(
    client: Client, waiting: Change, cab: tuple[ChangeBoard, list[User]]
) -> None:
    _board, (ana, _ben) = cab
    approval = Approval.objects.get(approver=ana)
    email = OutgoingEmail.objects.get(recipient=ana)
    assert waiting.reference in email.subject
    assert "/catalog/approve/" in email.text and f"/agent/changes/{waiting.pk}/" in email.text
    url = reverse("catalog:link", args=[links.make_token(approval_id=approval.pk, decision="rejected")])
    page = client.get(url, **EN)
    assert (
        page.status_code == 200
        and waiting.reference in page.content.decode()
        and "Replace the VPN gateway" in page.content.decode()
    )
    done = client.post(url, {"comment": "Not during the audit"}, **EN)
    assert done.status_code == 200 and f"You rejected {waiting.reference}." in done.content.decode()
    assert status(waiting) == S.REJECTED
    again = client.post(url, {"comment": "again"}, **EN)
    assert again.status_code == 409 and waiting.reference in again.content.decode()


def test_my_approvals_lists_change_approvals(
    client: Client, waiting: Change, cab: tuple[ChangeBoard, list[User]], django_assert_max_num_queries: object
) -> None:
    _board, (ana, _ben) = cab
    c = signed_in(client, ana)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        page = c.get(reverse("catalog:approvals"), **EN).content.decode()
    assert waiting.reference in page and f'href="/agent/changes/{waiting.pk}/"' in page and "Board Weekly CAB" in page
    approval = Approval.objects.get(approver=ana)
    response = c.post(reverse("catalog:decide", args=[approval.pk]), {"decision": "approved"}, **EN)
    assert response.status_code == 302
    assert Approval.objects.get(pk=approval.pk).decision == "approved"
    assert (
        f"{waiting.reference} · Replace the VPN gateway — Approved"
        in c.get(reverse("catalog:approvals"), **EN).content.decode()
    )


# --- delegation -----------------------------------------------------------------------------------


def test_naming_a_deputy(client: Client, cab: tuple[ChangeBoard, list[User]], agent: User) -> None:
    _board, (ana, _ben) = cab
    c = signed_in(client, ana)
    today = timezone.localdate()
    bad = c.post(
        reverse("catalog:delegation"),
        {"deputy_email": ana.email, "starts_on": today, "ends_on": today + timedelta(days=3)},
        **EN,
    )
    assert bad.status_code == 400 and "Your deputy must be someone else." in bad.content.decode()
    backwards = c.post(
        reverse("catalog:delegation"),
        {"deputy_email": agent.email, "starts_on": today, "ends_on": today - timedelta(days=1)},
        **EN,
    )
    assert backwards.status_code == 400 and not ApprovalDelegation.objects.exists()
    ok = c.post(
        reverse("catalog:delegation"),
        {"deputy_email": agent.email, "starts_on": today, "ends_on": today + timedelta(days=3)},
        **EN,
    )
    assert ok.status_code == 302
    assert "Léa L1" in c.get(reverse("catalog:delegation"), **EN).content.decode()
    overlap = c.post(
        reverse("catalog:delegation"),
        {"deputy_email": agent.email, "starts_on": today + timedelta(days=1), "ends_on": today + timedelta(days=5)},
        **EN,
    )
    assert overlap.status_code == 400 and ApprovalDelegation.objects.count() == 1
