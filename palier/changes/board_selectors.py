"""Reads of the change advisory board: the boards, the approval path, and a change's approval
steps as the engine keeps them (``catalog.ApprovalStep`` rows of subject "change")."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from palier.catalog.models import Approval, ApprovalStep
from palier.changes.approvals import KIND
from palier.changes.models import Change, ChangeApprovalStage, ChangeBoard

MAX_STEPS = 50


def boards() -> QuerySet[ChangeBoard]:
    """Every board with its group and the group's active members counted."""
    return ChangeBoard.objects.select_related("group").annotate(
        members=Count("group__membership", filter=Q(group__membership__user__is_active=True))
    )


def find_board(board_id: int) -> ChangeBoard | None:
    return ChangeBoard.objects.filter(pk=board_id).first()


def get_board(board_id: int) -> ChangeBoard:
    board = ChangeBoard.objects.select_related("group").filter(pk=board_id).first()
    if board is None:
        raise Http404("board")
    return board


def path_stages() -> list[ChangeApprovalStage]:
    """Both paths' stages, normal first, each in order."""
    return list(ChangeApprovalStage.objects.select_related("board").order_by("path", "order", "id"))


def stages(*, path: str | None = None) -> QuerySet[ChangeApprovalStage]:
    """The approval paths' stages (of one path when given), with their board."""
    rows = ChangeApprovalStage.objects.select_related("board")
    return rows.filter(path=path) if path else rows


def get_stage(stage_id: int) -> ChangeApprovalStage:
    stage = ChangeApprovalStage.objects.filter(pk=stage_id).first()
    if stage is None:
        raise Http404("stage")
    return stage


def change_steps(change: Change) -> list[ApprovalStep]:
    """The change's approval steps (every round, in order) with their approvals and approvers:
    two queries."""
    approvals = Approval.objects.select_related("approver", "on_behalf_of").order_by("id")
    return list(
        ApprovalStep.objects.filter(subject_kind=KIND, subject_id=change.pk, submission__isnull=True)
        .prefetch_related(Prefetch("approvals", queryset=approvals))
        .order_by("order")[:MAX_STEPS]
    )


def get_change_approval(approval_id: int) -> Approval:
    """An approval of a change (whoever asks: the engine checks who may decide it)."""
    approval = (
        Approval.objects.filter(pk=approval_id, step__subject_kind=KIND, step__submission__isnull=True)
        .select_related("step", "approver")
        .first()
    )
    if approval is None:
        raise Http404("approval")
    return approval


def group_usage(group_id: int) -> str:
    """Why the support group ``group_id`` cannot be deleted for the changes (``GROUP_IN_USE``)."""
    from django.utils.translation import gettext as _

    from palier.changes.models import Change

    if ChangeBoard.objects.filter(group_id=group_id).exists():
        return _("A change board is made of this group's members: change the board first.")
    if Change.objects.filter(group_id=group_id).exists():
        return _("Changes are assigned to this group: move them to another group first.")
    return ""
