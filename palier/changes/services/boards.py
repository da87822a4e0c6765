"""Writes on the change advisory boards and the approval path (administrators only): a board is
a support group's members deciding by a rule (any one, all, or a quorum); the path is the ordered
list of boards asked for normal changes and for emergency changes, each from a minimum risk."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.changes import permissions
from palier.changes.models import ChangeApprovalStage, ChangeBoard, Risk
from palier.lib import ordering
from palier.lib.errors import PermissionDenied
from palier.people.models import SupportGroup, User

MAX_NAME = 120


def _require_admin(by: User | None) -> None:
    if not permissions.can(by, "administer"):
        raise PermissionDenied(_("Only administrators define the change boards and the approval path."))


def active_members(group: SupportGroup) -> int:
    return User.objects.filter(membership__group_id=group.pk, is_active=True).count()


@transaction.atomic
def save_board(
    *,
    by: User | None,
    name: str,
    group: SupportGroup | None,
    rule: str,
    quorum: int | None = None,
    is_emergency: bool = False,
    board: ChangeBoard | None = None,
) -> ChangeBoard:
    """Create or edit a board. A quorum needs a number, at most the group's active members."""
    _require_admin(by)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the board a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("At most %(n)d characters.") % {"n": MAX_NAME}
    if not isinstance(group, SupportGroup):
        errors["group"] = _("Choose the group whose members sit on the board.")
    if rule not in ChangeBoard.Rule.values:
        errors["rule"] = _("Choose any one member, all members or a quorum.")
    if rule == ChangeBoard.Rule.QUORUM:
        if not quorum or quorum < 1:
            errors["quorum"] = _("Say how many approvals make the quorum.")
        elif isinstance(group, SupportGroup) and quorum > (members := active_members(group)):
            errors["quorum"] = _("The quorum (%(quorum)d) exceeds the board's %(members)d active members.") % {
                "quorum": quorum,
                "members": members,
            }
    else:
        quorum = None
    if errors:
        raise ValidationError(errors)
    assert isinstance(group, SupportGroup)
    board = board or ChangeBoard()
    board.name, board.group, board.rule, board.quorum, board.is_emergency = name, group, rule, quorum, is_emergency
    board.save()
    return board


@transaction.atomic
def add_stage(*, by: User | None, path: str, board: ChangeBoard | None, min_risk: str) -> ChangeApprovalStage:
    """Add a board at the end of the path of normal or emergency changes."""
    _require_admin(by)
    errors: dict[str, str] = {}
    if path not in ChangeApprovalStage.Path.values:
        errors["path"] = _("Choose normal or emergency changes.")
    if not isinstance(board, ChangeBoard):
        errors["board"] = _("Choose a board.")
    if min_risk not in Risk.values:
        errors["min_risk"] = _("Choose a risk level.")
    if errors:
        raise ValidationError(errors)
    assert isinstance(board, ChangeBoard)
    last = (
        ChangeApprovalStage.objects.select_for_update()
        .filter(path=path)
        .order_by("-order")
        .values_list("order", flat=True)
        .first()
    )
    return ChangeApprovalStage.objects.create(path=path, board=board, min_risk=min_risk, order=(last or 0) + 1)


@transaction.atomic
def remove_stage(*, by: User | None, stage: ChangeApprovalStage) -> None:
    """Remove a stage (approvals already asked keep their steps)."""
    _require_admin(by)
    stage.delete()


@transaction.atomic
def reorder_stages(*, by: User | None, ids: list[int]) -> None:
    """One path's stages in the order of ``ids`` (every stage of that path once)."""
    _require_admin(by)
    first = ChangeApprovalStage.objects.filter(pk__in=ids[:1]).values_list("path", flat=True).first()
    if first is None:
        raise ValidationError({"ids": _("Name the stages of one path, every one once.")})
    ordering.reorder(ChangeApprovalStage.objects.filter(path=first), ids, field="order", start=1)


@transaction.atomic
def move_stage(*, by: User | None, stage: ChangeApprovalStage, up: bool) -> None:
    """Swap a stage with its neighbour in its path (renumbering 1..n)."""
    _require_admin(by)
    siblings = list(ChangeApprovalStage.objects.select_for_update().filter(path=stage.path).order_by("order", "id"))
    index = next(i for i, s in enumerate(siblings) if s.pk == stage.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    for n, row in enumerate(siblings, start=1):
        if row.order != n:
            row.order = n
            row.save(update_fields=["order"])
