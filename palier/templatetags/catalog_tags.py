"""Ticket-page piece of the catalog, for the agent and portal ticket pages:
``{% load catalog_tags %}{% catalog_answers catalog_request %}`` shows a catalog request's answers as
a definition list, its approval steps and its fulfilment tasks. The view reads the request with
``catalog.selectors.request_for_ticket`` (steps, approvals and tasks prefetched); the tag only
formats it and reads nothing."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from palier.catalog.models import Approval, ApprovalStage, ApprovalStep, Submission

register = template.Library()


def _name(approval: Approval) -> str:
    if approval.on_behalf_of is None:
        return str(approval.approver.display_name)
    return _("%(deputy)s for %(name)s") % {
        "deputy": approval.approver.display_name,
        "name": approval.on_behalf_of.display_name,
    }


def _steps(submission: Submission) -> list[dict[str, Any]]:
    kinds = dict(ApprovalStage.Kind.choices)
    states = dict(ApprovalStep.State.choices)
    return [
        {
            "label": kinds.get(step.kind, step.kind),
            "state": states.get(step.state, step.state),
            "people": [(_name(a), a.get_decision_display()) for a in step.approvals.all()],
            "with_previous": step.with_previous,
        }
        for step in submission.steps.all()
    ]


@register.inclusion_tag("includes/catalog_answers.html", takes_context=True)
def catalog_answers(context: template.Context, submission: Submission | None) -> dict[str, Any]:
    if submission is None:
        return {"submission": None}
    user = getattr(context.get("request"), "user", None)
    detail = "agent:ticket-detail" if getattr(user, "is_agent", False) else "portal:ticket-detail"
    tasks = [
        {
            "subject": task.subject,
            "reference": task.ticket.reference if task.ticket else "",
            "status": task.ticket.get_status_display() if task.ticket else "",
            "url": reverse(detail, args=[task.ticket_id]) if task.ticket_id else "",
        }
        for task in submission.tasks.all()
    ]
    return {"submission": submission, "rows": submission.answer_rows(), "steps": _steps(submission), "tasks": tasks}
