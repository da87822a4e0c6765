"""Bulk actions of the agent queue: the same change applied to several tickets.

Each ticket goes through the ordinary services (``update_ticket``, ``transition_ticket``,
``comment_on_ticket``) in a transaction of its own, so one refused ticket (an illegal
transition, an assignee outside the group) changes nothing on that ticket and does not stop
the others. The result says, per ticket, what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError
from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Ticket


@dataclass
class BulkChange:
    """What to do to every selected ticket. Fields left as None are not touched."""

    group: SupportGroup | None = None
    assignee: User | None = None
    unassign: bool = False
    status: str | None = None
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return self.group is None and self.assignee is None and not self.unassign and not self.status and not self.note


@dataclass
class BulkOutcome:
    ticket: Ticket
    ok: bool
    message: str


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


def _apply(ticket: Ticket, change: BulkChange, *, by: User) -> None:
    fields: dict[str, Any] = {}
    if change.group is not None:
        fields["group"] = change.group
    if change.assignee is not None or change.unassign:
        fields["assignee"] = change.assignee
    if fields:
        ticket = services.update_ticket(ticket, by=by, expected_version=None, changes=fields)
    if change.status and change.status != ticket.status:
        ticket = services.transition_ticket(ticket, to=change.status, by=by)
    if change.note.strip():
        services.comment_on_ticket(ticket, by=by, body=change.note, internal=True)


def bulk_update_tickets(tickets: Sequence[Ticket], *, change: BulkChange, by: User) -> list[BulkOutcome]:
    """Apply ``change`` to each ticket (fetched with ``selectors.tickets_for_bulk``), one
    transaction per ticket; report per ticket whether it worked and why not."""
    if change.is_empty:
        raise ValidationError(_("Choose at least one change to apply."))
    outcomes: list[BulkOutcome] = []
    for ticket in tickets:
        try:
            with transaction.atomic():
                _apply(ticket, change, by=by)
        except (ValidationError, DomainError) as exc:
            outcomes.append(BulkOutcome(ticket, False, _error_text(exc)))
        else:
            outcomes.append(BulkOutcome(ticket, True, _("Done.")))
    return outcomes


def merge_selection(tickets: Sequence[Ticket], *, into: Ticket, by: User) -> BulkOutcome:
    """Merge the selected tickets (``into`` itself left out if selected) into ``into``: one merge,
    all or nothing (``services.merge_tickets``), unlike the other bulk changes."""
    others = [t for t in tickets if t.pk != into.pk]
    try:
        services.merge_tickets(into, merged=[t.pk for t in others], by=by)
    except (ValidationError, DomainError) as exc:
        return BulkOutcome(into, False, _error_text(exc))
    refs = ", ".join(t.reference for t in others)
    return BulkOutcome(into, True, _("Merged %(refs)s into %(ref)s.") % {"refs": refs, "ref": into.reference})
