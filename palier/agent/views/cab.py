"""The change advisory board's pages: the boards and the approval path (administrators), and the
decision on a change's approval from the change page. The rules live in ``palier.changes``
(``services/boards.py``, ``approvals.py``) and the catalog's approval engine."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.cab import BoardForm, DecisionForm, StageForm
from palier.catalog import services as catalog_services
from palier.catalog.models import Approval
from palier.changes import board_selectors
from palier.changes.approvals import change_url
from palier.changes.services import boards
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, agent_required, apply_errors
from palier.people.http import AuthedRequest


def _message(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


@admin_required
def board_list(request: AuthedRequest, board_id: int | None = None) -> HttpResponse:
    board = board_selectors.get_board(board_id) if board_id else None
    form = BoardForm(request.POST or None, board=board)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            boards.save_board(
                by=request.user,
                name=data["name"],
                group=data["group"],
                rule=data["rule"],
                quorum=data["quorum"],
                is_emergency=data["is_emergency"],
                board=board,
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("cab:boards")
    context = {"boards": board_selectors.boards(), "form": form, "editing": board}
    return render(request, "agent/cab/boards.html", context, status=400 if form.is_bound else 200)


@admin_required
def approval_path(request: AuthedRequest) -> HttpResponse:
    form = StageForm(request.POST or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            boards.add_stage(by=request.user, path=data["path"], board=data["board"], min_risk=data["min_risk"])
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("cab:path")
    stages = board_selectors.path_stages()
    context = {
        "normal": [s for s in stages if s.path == "normal"],
        "emergency": [s for s in stages if s.path == "emergency"],
        "form": form,
    }
    return render(request, "agent/cab/path.html", context, status=400 if form.is_bound else 200)


@admin_required
@require_POST
def stage_move(request: AuthedRequest, stage_id: int, direction: str) -> HttpResponse:
    boards.move_stage(by=request.user, stage=board_selectors.get_stage(stage_id), up=direction == "up")
    return redirect("cab:path")


@admin_required
@require_POST
def stage_remove(request: AuthedRequest, stage_id: int) -> HttpResponse:
    boards.remove_stage(by=request.user, stage=board_selectors.get_stage(stage_id))
    messages.success(request, _("The stage was removed."))
    return redirect("cab:path")


@agent_required
@require_POST
def decide(request: AuthedRequest, approval_id: int) -> HttpResponse:
    """Approve or reject one change approval from the change page; any refusal (not on the
    board, already decided, a rejection without a reason) shows its message, nothing changes."""
    approval = board_selectors.get_change_approval(approval_id)
    target = change_url(approval.step.subject_id or 0)
    form = DecisionForm(request.POST)
    decision = request.POST.get("decision", "")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(target)
    try:
        catalog_services.decide(
            approval=approval, decision=decision, comment=form.cleaned_data["comment"], by=request.user, via="page"
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, _message(exc))
    else:
        if decision == Approval.Decision.APPROVED:
            messages.success(request, _("You approved the change."))
        else:
            messages.success(request, _("You rejected the change."))
    return redirect(target)
