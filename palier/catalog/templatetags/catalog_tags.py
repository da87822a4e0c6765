"""Ticket-page piece of the catalog, for the agent and portal ticket pages:
``{% load catalog_tags %}{% catalog_answers ticket %}`` shows a catalog request's answers as a
definition list, its approval steps and its fulfilment tasks. One query for other tickets."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Prefetch
from django.urls import reverse

from palier.catalog import selectors
from palier.catalog.models import Approval, ApprovalStage, ApprovalStep
from palier.tickets.models import Ticket

register = template.Library()


def _steps(submission: Any) -> list[dict[str, Any]]:
    steps = submission.steps.prefetch_related(
        Prefetch("approvals", queryset=Approval.objects.select_related("approver").order_by("id"))
    ).order_by("order")
    kinds = dict(ApprovalStage.Kind.choices)
    states = dict(ApprovalStep.State.choices)
    return [
        {
            "label": kinds.get(step.kind, step.kind),
            "state": states.get(step.state, step.state),
            "people": [(a.approver.display_name, a.get_decision_display()) for a in step.approvals.all()],
        }
        for step in steps
    ]


@register.inclusion_tag("includes/catalog_answers.html", takes_context=True)
def catalog_answers(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"submission": None}
    submission = selectors.submission_for(user, ticket)
    if submission is None:
        return {"submission": None}
    detail = "agent:ticket-detail" if user.is_agent else "portal:ticket-detail"
    tasks = [
        {
            "subject": task.subject,
            "reference": task.ticket.reference if task.ticket else "",
            "status": task.ticket.get_status_display() if task.ticket else "",
            "url": reverse(detail, args=[task.ticket_id]) if task.ticket_id else "",
        }
        for task in selectors.tasks_of(submission)
    ]
    return {"submission": submission, "rows": submission.answer_rows(), "steps": _steps(submission), "tasks": tasks}
