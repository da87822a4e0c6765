"""The ``before_open`` hook: routing then assignment of a ticket being created."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from palier.routing.services import assignment, rules
from palier.tickets.hooks import Draft
from palier.tickets.models import Ticket

log = logging.getLogger(__name__)


def place_new_ticket(ticket: Ticket, draft: Draft) -> None:
    """Route the unsaved ticket unless the caller chose its group, then assign it unless the
    caller chose its assignee.

    Data it cannot use (a rule whose group was deleted, invalid working hours) is skipped by the
    code below. Any other failure that is not the database's is logged and the ticket keeps what
    it had, so ``open_ticket`` puts it in the triage group: a creation never fails because of
    routing. No savepoint: it would cost two round trips on every creation, and a database error
    leaves a PostgreSQL transaction unusable anyway.
    """
    group, assignee, category_id, priority = ticket.group, ticket.assignee, ticket.category_id, ticket.priority
    tags = list(draft.tags)
    try:
        if not draft.group_chosen:
            rules.route_new_ticket(ticket, draft)
        if not draft.assignee_chosen and ticket.assignee_id is None:
            note = assignment.assign_on_open(ticket)
            if note:
                draft.notes.append(note)
    except DatabaseError:
        raise
    except Exception:
        log.exception("routing failed for a new ticket; it goes to the triage group")
        ticket.group, ticket.assignee, ticket.category_id, ticket.priority = group, assignee, category_id, priority
        draft.tags[:] = tags
        draft.notes.append("routing failed: triage group")
