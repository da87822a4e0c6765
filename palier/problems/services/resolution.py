"""Resolving a problem and telling its incidents (docs/problems.md, "Resolving a problem").

``resolve_problem`` moves the problem to resolved and, for each of its open incidents, adds one
outbox item (``problems.incident_resolved``, key ``problem:<id>:ticket:<id>``). The handler
``incident_resolved`` posts the message as a public reply on the incident (so the requester is
told by the ticket notifications, in their language) and, when asked, resolves it; one ticket
event (kind ``problem``, action ``resolved``) records it. ``ProblemIncident.notified_at``, set under
the link's row lock, makes it exactly once per incident: a retried item or a second resolution
finds it set and does nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.core import outbox
from palier.lib.errors import DomainError, PermissionDenied
from palier.people.models import User
from palier.problems import history, permissions
from palier.problems.models import Problem, ProblemEvent, ProblemIncident
from palier.tickets import history as ticket_history
from palier.tickets import permissions as ticket_permissions
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket, TicketEvent

from .problems import MAX_TEXT, transition_problem

OUTBOX_KIND = "problems.incident_resolved"


def outbox_key(problem_id: int, ticket_id: int) -> str:
    return f"problem:{problem_id}:ticket:{ticket_id}"


@transaction.atomic
def resolve_problem(
    problem: Problem,
    *,
    by: User | None,
    message: str,
    notify: bool = True,
    resolve_incidents: bool = True,
    version: int | None = None,
) -> int:
    """Resolve the problem (problem managers only) and, when ``notify`` or ``resolve_incidents``,
    queue the work on each open incident not yet told. Returns how many incidents were queued.
    Resolving an already resolved problem only queues the incidents not yet told."""
    if not permissions.is_problem_manager(by):
        raise PermissionDenied(_("Only a problem manager may resolve a problem."))
    assert by is not None
    message = (message or "").strip()
    if notify and not message:
        raise ValidationError({"message": _("Write the message the requesters will read.")})
    if len(message) > MAX_TEXT:
        raise ValidationError({"message": _("At most %(n)d characters.") % {"n": MAX_TEXT}})
    if problem.status != Problem.Status.RESOLVED:
        problem = transition_problem(problem, to=Problem.Status.RESOLVED, by=by, version=version)
    if not (notify or resolve_incidents):
        return 0
    ticket_ids = list(
        ProblemIncident.objects.filter(
            problem=problem, notified_at__isnull=True, ticket__status__in=Ticket.OPEN_STATUSES
        ).values_list("ticket_id", flat=True)
    )
    payload: dict[str, Any] = {
        "problem": problem.pk,
        "by": by.pk,
        "message": message if notify else "",
        "resolve": resolve_incidents,
    }
    for ticket_id in ticket_ids:
        outbox.add(OUTBOX_KIND, key=outbox_key(problem.pk, ticket_id), payload={**payload, "ticket": ticket_id})
    if ticket_ids:
        history.record(
            problem,
            ProblemEvent.Kind.INCIDENTS_RESOLVED,
            actor=by,
            data={"count": len(ticket_ids), "resolve": resolve_incidents, "message": payload["message"]},
        )
    return len(ticket_ids)


def incident_resolved(payload: dict[str, Any]) -> None:
    """The outbox handler: tell one incident, once (see the module's text)."""
    with transaction.atomic():
        link = (
            ProblemIncident.objects.select_for_update()
            .filter(problem_id=payload["problem"], ticket_id=payload["ticket"])
            .first()
        )
        if link is None or link.notified_at is not None:
            return  # unlinked meanwhile, or already told
        by = User.objects.filter(pk=int(payload["by"])).first()
        if by is None:
            raise outbox.Permanent(f"user {payload['by']} no longer exists")
        problem = Problem.objects.get(pk=payload["problem"])
        ticket = Ticket.objects.select_related("group").get(pk=payload["ticket"])
        told = False
        if ticket.is_open:
            told = _reply(ticket, by, str(payload.get("message") or ""))
            if payload.get("resolve"):
                _resolve(ticket, by)
        ticket_history.record(
            ticket,
            TicketEvent.Kind.PROBLEM,
            by=by,
            internal=True,
            reference=problem.reference,
            action="resolved",
            problem=problem.pk,
            told=told,
        )
        link.notified_at = timezone.now()
        link.save(update_fields=["notified_at"])


def _reply(ticket: Ticket, by: User, message: str) -> bool:
    if not message:
        return False
    if ticket_permissions.can(by, "comment", ticket):
        ticket_services.comment_on_ticket(ticket, by=by, body=message, internal=False)
    else:  # a problem manager outside the incident's group: the resolution authorised it
        ticket_services.record_reply(ticket, author=by, body=message)
    return True


def _resolve(ticket: Ticket, by: User) -> None:
    ticket.refresh_from_db()
    if ticket.status == Ticket.Status.RESOLVED:
        return
    actor = by if ticket_permissions.can(by, "transition", ticket) else None
    try:
        with transaction.atomic():
            ticket_services.transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=actor)
    except (ValidationError, DomainError):  # a status that cannot resolve: the reply was still sent
        return
