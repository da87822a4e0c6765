"""Fulfilment: after approval, each task becomes a child request for its group, one after the
other or all at once; when every task is finished the parent request resolves by itself.

``on_ticket_change`` is registered as an ``after_change`` hook of the ticket services, so it runs
inside the transaction that finished a task (or cancelled a request waiting for approval)."""

from __future__ import annotations

import logging
from typing import Any

from palier.catalog.models import CatalogItem, FulfilmentTask, Submission
from palier.tickets import history
from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)
E = TicketEvent.Kind
S = Ticket.Status
FINISHED = frozenset({S.RESOLVED, S.CLOSED, S.CANCELLED})


def start_fulfilment(submission: Submission) -> None:
    """Open the first task (in order) or every task (in parallel). Inside the caller's transaction."""
    submission.state = Submission.State.FULFILMENT
    submission.save(update_fields=["state"])
    tasks = list(submission.tasks.filter(ticket__isnull=True).order_by("order"))
    if submission.fulfilment == CatalogItem.Fulfilment.SEQUENTIAL:
        tasks = tasks[:1]
    for task in tasks:
        _open_task(submission, task)


def _open_task(submission: Submission, task: FulfilmentTask) -> Ticket:
    parent = submission.ticket
    child = tickets.open_ticket(
        requester=parent.requester,
        by=None,
        subject=f"{task.subject} ({parent.reference})"[:250],
        description=parent.description,
        kind=Ticket.Kind.REQUEST,
        channel=parent.channel,
        impact=parent.impact,
        urgency=parent.urgency,
        group=task.group,
    )
    task.ticket = child
    task.save(update_fields=["ticket"])
    tickets.link_task(parent, child=child)
    history.record(parent, E.TASK, by=None, internal=True, action="opened", task=child.reference, subject=task.subject)
    return child


def on_ticket_change(ticket: Ticket, old: dict[str, Any]) -> None:
    """The ``after_change`` hook: a task that finished moves its request on; a request cancelled
    or closed while it waited for approval withdraws its approvals."""
    previous = old.get("status")
    if previous is None or previous in FINISHED or ticket.status not in FINISHED:
        return
    if ticket.kind != Ticket.Kind.REQUEST:
        return
    task = FulfilmentTask.objects.select_related("submission__ticket").filter(ticket_id=ticket.pk).first()
    if task is not None:
        _task_finished(task, ticket)
        return
    submission = Submission.objects.filter(ticket_id=ticket.pk, state=Submission.State.APPROVAL).first()
    if submission is not None:
        from palier.catalog.services.approvals import withdraw_approvals

        withdraw_approvals(submission)


def _task_finished(task: FulfilmentTask, child: Ticket) -> None:
    submission = Submission.objects.select_for_update().select_related("ticket").get(pk=task.submission_id)
    parent = submission.ticket
    history.record(
        parent, E.TASK, by=None, internal=True, action=child.status, task=child.reference, subject=task.subject
    )
    if submission.state != Submission.State.FULFILMENT:
        return
    pending = list(submission.tasks.select_related("ticket").order_by("order"))
    unopened = [t for t in pending if t.ticket_id is None]
    running = [t for t in pending if t.ticket is not None and t.ticket.status not in FINISHED and t.pk != task.pk]
    if running:
        return
    if unopened:
        _open_task(submission, unopened[0])
        return
    submission.state = Submission.State.DONE
    submission.save(update_fields=["state"])
    if parent.is_open:
        try:
            tickets.transition_ticket(parent, to=S.RESOLVED, by=None, note="")
        except Exception:  # a hook must not abort the agent's change: the request stays for an agent
            log.exception("could not resolve catalog request %s", parent.pk)
            return
        history.record(parent, E.TASK, by=None, internal=True, action="all-done")
