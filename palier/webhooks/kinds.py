"""The event types a subscription may ask for, and the payload version (pure, no database).

A type is ``<subject>.<what>``; its payload (``payloads.py``) is versioned as a whole: a change
that could break a receiver is a new ``VERSION``, announced in the release notes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERSION = 1

TYPES: dict[str, object] = {
    "ticket.created": _("Ticket created"),
    "ticket.updated": _("Ticket updated (fields, group, level, vendor)"),
    "ticket.commented": _("Ticket commented (replies and internal notes)"),
    "ticket.status_changed": _("Ticket status changed"),
    "sla.warning": _("SLA warning"),
    "sla.breach": _("SLA breach"),
    "approval.requested": _("Approval requested"),
    "approval.decided": _("Approval decided"),
    "problem.created": _("Problem created"),
    "problem.status_changed": _("Problem status changed"),
    "problem.commented": _("Problem commented"),
    "problem.updated": _("Problem updated (fields, links, workaround)"),
    "change.created": _("Change created"),
    "change.status_changed": _("Change status changed"),
    "change.commented": _("Change commented"),
    "change.approval": _("Change approval"),
    "change.updated": _("Change updated (fields, risk, links, review)"),
}

_TICKET = {
    "created": "ticket.created",
    "changed": "ticket.updated",
    "routed": "ticket.updated",
    "escalated": "ticket.updated",
    "deescalated": "ticket.updated",
    "vendor": "ticket.updated",
    "status": "ticket.status_changed",
    "commented": "ticket.commented",
    "noted": "ticket.commented",
    "sla_warning": "sla.warning",
    "sla_breach": "sla.breach",
}
_PROBLEM = {"created": "problem.created", "status": "problem.status_changed", "comment": "problem.commented"}
_CHANGE = {
    "created": "change.created",
    "status": "change.status_changed",
    "comment": "change.commented",
    "approval": "change.approval",
}


def ticket_type(kind: str, data: dict[str, object]) -> str | None:
    """The type of a ticket event, or None when no subscription can ask for it."""
    if kind == "approval":
        decision = data.get("decision")
        if decision == "asked":
            return "approval.requested"
        return None if decision == "skipped" else "approval.decided"
    return _TICKET.get(kind)


def problem_type(kind: str) -> str:
    return _PROBLEM.get(kind, "problem.updated")


def change_type(kind: str) -> str:
    return _CHANGE.get(kind, "change.updated")


def choices() -> list[tuple[str, str]]:
    return [(name, str(label)) for name, label in TYPES.items()]
