"""The ``before_open`` hook: routing then assignment of a ticket being created."""

from __future__ import annotations

import logging

from django.db import DatabaseError

from palier.routing.services import assignment, rules
from palier.tickets.hooks import Draft
from palier.tickets.models import Ticket

log = logging.getLogger(__name__)


def place_new_tickets(pairs: list[tuple[Ticket, Draft]]) -> None:
    """The ``before_open`` hook: route each unsaved ticket of an ``open_tickets`` batch unless the
    caller chose its group, then assign it unless the caller chose its assignee, in order.

    Data it cannot use (a rule whose group was deleted, invalid working hours) is skipped by the
    code below. Any other failure that is not the database's is logged and the tickets keep what
    they had, so ``open_tickets`` puts them in the triage group: a creation never fails because of
    routing. No savepoint: it would cost two round trips on every creation, and a database error
    leaves a PostgreSQL transaction unusable anyway.
    """
    kept = [(t.group, t.assignee, t.category_id, t.priority, list(d.tags), list(d.notes)) for t, d in pairs]
    try:
        rules.route_new_tickets([(t, d) for t, d in pairs if not d.group_chosen])
        waiting = [(t, d) for t, d in pairs if not d.assignee_chosen and t.assignee_id is None]
        notes = assignment.assign_on_open_many([t for t, _d in waiting])
        for (_ticket, draft), note in zip(waiting, notes, strict=True):
            if note:
                draft.notes.append(note)
    except DatabaseError:
        raise
    except Exception:
        log.exception("routing failed for new tickets; they go to the triage group")
        for (ticket, draft), (group, assignee, category_id, priority, tags, notes_before) in zip(
            pairs, kept, strict=True
        ):
            ticket.group, ticket.assignee, ticket.category_id, ticket.priority = group, assignee, category_id, priority
            draft.tags[:] = tags
            draft.notes[:] = [*notes_before, "routing failed: triage group"]
