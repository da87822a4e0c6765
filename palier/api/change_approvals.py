"""The change advisory board through the API: a change's approval stages, the approvals waiting
for you, your decision, your deputies while away, and the boards (docs/changes.md, "API").

The same rules as the pages: only agents work with changes (403 for anyone else); an approval is
decided by the person asked (403 for anyone else, like the change page), once (409 after), and
a rejection needs a comment (422). Decisions go through the catalog's approval engine
(``catalog.services.decide``, ``via="api"``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem as HttpProblem
from palier.api.pagination import keyset_page
from palier.api.schemas.change_calendar import (
    BoardsOut,
    ChangeApprovalsOut,
    DecisionIn,
    DecisionOut,
    DelegationIn,
    DelegationOut,
    PendingApprovalPage,
)
from palier.catalog import services as catalog_services
from palier.catalog.models import Approval, ApprovalStep
from palier.catalog.services import delegation
from palier.changes import api_selectors, board_selectors, permissions
from palier.changes import selectors_api as change_selectors
from palier.changes.models import Change
from palier.people.models import User

router = Router()
changes_router = Router()


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


def _agent(request: HttpRequest) -> User:
    user = current_user(request)
    if not permissions.can(user, "view"):
        raise HttpProblem(403, _("Only the desk's agents may work with changes."))
    return user


def _brief(change: Change) -> dict[str, Any]:
    return {
        "id": change.pk,
        "reference": change.reference,
        "title": change.title,
        "kind": change.kind,
        "status": change.status,
        "risk": change.risk,
        "planned_start": change.planned_start,
        "planned_end": change.planned_end,
    }


def _approval(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.pk,
        "approver": approval.approver,
        "decision": approval.decision,
        "comment": approval.comment,
        "via": approval.via,
        "asked_at": approval.asked_at,
        "decided_at": approval.decided_at,
        "on_behalf_of": approval.on_behalf_of,
    }


def _stage(step: ApprovalStep) -> dict[str, Any]:
    return {
        "order": step.order,
        "board": step.label,
        "rule": step.rule,
        "quorum": step.quorum,
        "state": step.state,
        "approvals": [_approval(a) for a in step.approvals.all()],
    }


# --- a change's approvals -------------------------------------------------------------------------


@changes_router.get(
    "/{int:change_id}/approvals",
    response=ChangeApprovalsOut,
    url_name="change_approvals",
    summary="A change's approvals",
)
def change_approvals(request: HttpRequest, change_id: int) -> dict[str, Any]:
    """Every approval stage of the change (every round, in order) with its board, rule, quorum and
    state, and each person asked with their decision, comment, date and the absent person a deputy
    decides for. Three queries whatever the number of stages and approvers."""
    change = change_selectors.get_change_for(_agent(request), change_id)
    return {"change": _brief(change), "stages": [_stage(s) for s in board_selectors.change_steps(change)]}


# --- my approvals ---------------------------------------------------------------------------------


@router.get(
    "/approvals/changes",
    response=PendingApprovalPage,
    url_name="change_approvals_pending",
    summary="My change approvals",
)
def pending(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """The change approvals waiting for your decision, oldest first, each with its change;
    keyset-paginated."""
    user = _agent(request)
    rows, cursor = keyset_page(
        api_selectors.pending_change_approvals(user), order=("id",), cursor=page.cursor, limit=page.limit
    )
    changes = api_selectors.changes_by_id({api_selectors.approval_subject(a) for a in rows})
    items = [
        {
            "id": a.pk,
            "stage": a.step.order,
            "board": a.step.label,
            "rule": a.step.rule,
            "quorum": a.step.quorum,
            "asked_at": a.asked_at,
            "on_behalf_of": a.on_behalf_of,
            "change": _brief(changes[api_selectors.approval_subject(a)]),
        }
        for a in rows
        if api_selectors.approval_subject(a) in changes
    ]
    return {"items": items, "next_cursor": cursor}


@router.post(
    "/approvals/changes/{int:approval_id}/decision",
    response=DecisionOut,
    url_name="change_approval_decide",
    summary="Approve or reject a change",
)
def decide(request: HttpRequest, approval_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Your decision on a change approval asked of you. Someone not asked answers 403; an
    approval already decided (or no longer needed, or a second submission) 409; a rejection
    without a ``comment`` 422. The stage closes by its board's rule; the last stage approved
    moves the change to approved, a stage rejected moves it to rejected."""
    user = _agent(request)
    approval = board_selectors.get_change_approval(approval_id)
    if approval.approver_id != user.pk:
        raise HttpProblem(403, _("You are not asked to approve this change."))
    decided = catalog_services.decide(
        approval=approval, decision=payload.decision, comment=payload.comment, by=user, via="api"
    )
    change = change_selectors.get_change_for(user, approval.step.subject_id or 0)
    return {"approval": _approval(decided), "change": _brief(change)}


# --- delegations ----------------------------------------------------------------------------------


@router.get("/approvals/delegations", response=list[DelegationOut], summary="My deputies while away")
def list_delegations(request: HttpRequest) -> list[Any]:
    """Your delegations not yet over, soonest first (at most 100)."""
    user = _agent(request)
    return list(api_selectors.delegations_of(user).order_by("starts_on", "id")[:100])


@router.post("/approvals/delegations", response={201: DelegationOut}, summary="Name a deputy while away")
def add_delegation(request: HttpRequest, payload: DelegationIn) -> Status[Any]:
    """While you are away (``starts_on`` to ``ends_on``, both included), what is newly asked of
    you goes to ``deputy``, who decides on your behalf. Yourself, an inactive or non-agent deputy,
    a period reversed, over, longer than a year or overlapping another of yours answer 422."""
    user = _agent(request)
    deputy = lookups.user_by_id(payload.deputy, field="deputy")
    made = delegation.set_delegation(user=user, deputy=deputy, starts_on=payload.starts_on, ends_on=payload.ends_on)
    return Status(201, made)


@router.delete("/approvals/delegations/{int:delegation_id}", response={204: None}, summary="End a delegation")
def end_delegation(request: HttpRequest, delegation_id: int) -> Status[Any]:
    """Remove one of your delegations (someone else's answers 404)."""
    user = _agent(request)
    found = api_selectors.get_delegation_of(user, delegation_id)
    delegation.end_delegation(user=user, delegation_id=found.pk)
    return Status(204, None)


# --- boards ---------------------------------------------------------------------------------------


@router.get("/change-boards", response=BoardsOut, url_name="change_boards", summary="Change boards and paths")
def boards(request: HttpRequest) -> dict[str, Any]:
    """The boards (members' group, rule, quorum, emergency board) and the approval paths of
    normal and emergency changes: the boards asked in order, each from a minimum risk."""
    _agent(request)
    rows = [
        {
            "id": b.pk,
            "name": b.name,
            "group": b.group_id,
            "group_name": b.group.name,
            "members": b.members,  # type: ignore[attr-defined]
            "rule": b.rule,
            "quorum": b.quorum,
            "is_emergency": b.is_emergency,
        }
        for b in board_selectors.boards()[:200]
    ]
    stages = board_selectors.path_stages()[:200]

    def path(name: str) -> list[dict[str, Any]]:
        return [
            {"order": s.order, "board": s.board_id, "board_name": s.board.name, "min_risk": s.min_risk}
            for s in stages
            if s.path == name
        ]

    return {"boards": rows, "normal": path("normal"), "emergency": path("emergency")}
