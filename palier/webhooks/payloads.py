"""The payload of each event type, version 1 (docs/webhooks.md, and the ``webhooks`` section of
the OpenAPI document): one envelope, ``data`` by subject. Built when the event is handed over, so
a later change of the record does not rewrite what was sent about an earlier one.

    {"version": 1, "id": "<delivery uuid>", "type": "ticket.status_changed",
     "occurred_at": "...", "actor": {"id": 7, "name": "…", "email": "…"} | null,
     "data": {"ticket": {...}, "event": {"id": 123, "kind": "status", "changes": {...}}}}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.urls import reverse

from palier.changes.models import Change, ChangeEvent
from palier.notifications.email import base_url
from palier.people.models import User
from palier.problems.models import Problem, ProblemEvent
from palier.tickets.models import Ticket, TicketEvent

from .kinds import VERSION


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.display_name, "email": user.email}


def envelope(*, delivery_id: str, type: str, at: datetime, actor: User | None, data: dict[str, Any]) -> str:
    body = {
        "version": VERSION,
        "id": delivery_id,
        "type": type,
        "occurred_at": at.isoformat(),
        "actor": _person(actor),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def ticket_data(ticket: Ticket, event: TicketEvent) -> dict[str, Any]:
    return {
        "ticket": {
            "id": ticket.pk,
            "reference": ticket.reference,
            "kind": ticket.kind,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "impact": ticket.impact,
            "urgency": ticket.urgency,
            "channel": ticket.channel,
            "group": {"id": ticket.group_id, "name": ticket.group.name} if ticket.group_id and ticket.group else None,
            "assignee": _person(ticket.assignee) if ticket.assignee_id else None,
            "requester": _person(ticket.requester),
            "created_at": ticket.created_at.isoformat(),
            "url": base_url() + reverse("agent:ticket-detail", args=[ticket.pk]),
        },
        "event": {"id": event.pk, "kind": event.kind, "internal": event.is_internal, "details": event.data or {}},
    }


def problem_data(problem: Problem, event: ProblemEvent) -> dict[str, Any]:
    return {
        "problem": {
            "id": problem.pk,
            "reference": problem.reference,
            "title": problem.title,
            "status": problem.status,
            "priority": problem.priority,
            "url": base_url() + reverse("problems:detail", args=[problem.pk]),
        },
        "event": {"id": event.pk, "kind": event.kind, "details": event.data or {}},
    }


def change_data(change: Change, event: ChangeEvent) -> dict[str, Any]:
    return {
        "change": {
            "id": change.pk,
            "reference": change.reference,
            "title": change.title,
            "kind": change.kind,
            "status": change.status,
            "risk": change.risk,
            "outcome": change.outcome or None,
            "planned_start": change.planned_start.isoformat() if change.planned_start else None,
            "planned_end": change.planned_end.isoformat() if change.planned_end else None,
            "url": base_url() + reverse("changes:detail", args=[change.pk]),
        },
        "event": {"id": event.pk, "kind": event.kind, "details": event.data or {}},
    }


def ping_data() -> dict[str, Any]:
    return {"message": "Palier test delivery"}
