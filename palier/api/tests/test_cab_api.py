"""The catalog's approvals API stays about catalog requests: a change approval of the same
person is neither listed nor decided there (the board decides on the change page, by email link
and on "My approvals")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from palier.catalog.models import Approval
from palier.changes import services
from palier.changes.models import ChangeApprovalStage
from palier.changes.services import boards
from palier.people import services as people
from palier.people.models import User

pytestmark = pytest.mark.django_db


def test_change_approvals_are_not_in_the_catalog_api(
    agent: User, admin_user: User, token_client: Callable[..., Any]
) -> None:
    group = people.create_group(name="CAB", level=2)
    ana = people.create_user(email="ana@desk.test", full_name="Ana", role=User.Role.AGENT, password="pw-x-123456!")
    people.add_group_member(group, user=ana)
    ChangeApprovalStage.objects.create(
        path="emergency", board=boards.save_board(by=admin_user, name="ECAB", group=group, rule="any"), order=1
    )
    start = timezone.now() + timedelta(days=1)
    change = services.create_change(
        by=agent,
        kind="emergency",
        title="Patch the firewall",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        implementation_plan="Patch",
        backout_plan="Revert",
    )
    services.transition_change(change, to="awaiting_approval", by=agent)
    approval = Approval.objects.get(approver=ana)
    client = token_client(ana)
    assert client.call("GET", "/catalog/approvals").json()["items"] == []
    assert client.call("POST", f"/catalog/approvals/{approval.pk}", {"decision": "approve"}).status_code == 404
    assert Approval.objects.get(pk=approval.pk).decision == "pending"
