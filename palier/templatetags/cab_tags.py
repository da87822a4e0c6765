"""The change page's approval block: ``{% load cab_tags %}{% change_approvals change %}`` shows the
boards' steps (every round), who decided what, and the approve/reject form for the signed-in
person when an approval of theirs waits. Reads the steps itself (two queries)."""

from __future__ import annotations

from typing import Any

from django import template

from palier.catalog.models import Approval, ApprovalStep
from palier.changes import board_selectors
from palier.changes.models import Change

register = template.Library()


@register.inclusion_tag("agent/changes/_approvals_block.html", takes_context=True)
def change_approvals(context: template.Context, change: Change) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    steps = board_selectors.change_steps(change)
    mine = None
    if user is not None and change.status == Change.Status.AWAITING_APPROVAL:
        mine = next(
            (
                a
                for step in steps
                if step.state == ApprovalStep.State.OPEN
                for a in step.approvals.all()
                if a.approver_id == user.pk and a.decision == Approval.Decision.PENDING
            ),
            None,
        )
    return {
        "change": change,
        "steps": steps,
        "mine": mine,
        "csrf_token": context.get("csrf_token"),
    }
