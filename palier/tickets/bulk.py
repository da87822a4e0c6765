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

from palier.lib.errors import DomainError, IllegalTransition, PermissionDenied
from palier.people.models import SupportGroup, User
from palier.tickets import permissions, selectors, services
from palier.tickets.models import Ticket


@dataclass
class BulkChange:
    """What to do to every selected ticket. Fields left as None are not touched."""

    group: SupportGroup | None = None
    assignee: User | None = None
    unassign: bool = False
    status: str | None = None
    note: str = ""
    priority: int | None = None  # an override, kept with ``note`` (or a default reason) in its event
    tags: list[str] | None = None  # replaces the ticket's tags
    add_tags: list[str] | None = None  # added to the ticket's own

    @property
    def is_empty(self) -> bool:
        return (
            self.group is None
            and self.assignee is None
            and not self.unassign
            and not self.status
            and not self.note
            and self.priority is None
            and self.tags is None
            and not self.add_tags
        )


@dataclass
class BulkOutcome:
    ticket: Ticket
    ok: bool
    message: str
    changed: bool = False  # the ticket's version moved


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


def _apply(ticket: Ticket, change: BulkChange, *, by: User) -> Ticket:
    fields: dict[str, Any] = {}
    if change.group is not None:
        fields["group"] = change.group
    if change.assignee is not None or change.unassign:
        fields["assignee"] = change.assignee
    if change.tags is not None:
        fields["tags"] = change.tags
    elif change.add_tags:
        fields["tags"] = sorted({*selectors.tag_names(ticket), *change.add_tags})
    if fields:
        ticket = services.update_ticket(ticket, by=by, expected_version=None, changes=fields)
    if change.priority is not None:
        ticket = _override_priority(ticket, change, by=by)
    if change.status and change.status != ticket.status:
        ticket = services.transition_ticket(ticket, to=change.status, by=by)
    if change.note.strip():
        services.comment_on_ticket(ticket, by=by, body=change.note, internal=True)
    return ticket


def _override_priority(ticket: Ticket, change: BulkChange, *, by: User) -> Ticket:
    """A person's priority override: only desk staff working on an open ticket."""
    if not permissions.can(by, "update", ticket):
        raise PermissionDenied(_("You cannot change this ticket."))
    if not ticket.is_open:
        raise IllegalTransition(_("A resolved, closed or cancelled ticket cannot be edited; reopen it first."))
    reason = change.note.strip() or _("Bulk change")
    return services.override_priority(ticket, priority=change.priority or 0, by=by, reason=reason)


def bulk_update_tickets(tickets: Sequence[Ticket], *, change: BulkChange, by: User) -> list[BulkOutcome]:
    """Apply ``change`` to each ticket (fetched with ``selectors.tickets_for_bulk``), one
    transaction per ticket; report per ticket whether it worked and why not."""
    if change.is_empty:
        raise ValidationError(_("Choose at least one change to apply."))
    outcomes: list[BulkOutcome] = []
    for ticket in tickets:
        try:
            with transaction.atomic():
                after = _apply(ticket, change, by=by)
        except (ValidationError, DomainError) as exc:
            outcomes.append(BulkOutcome(ticket, False, _error_text(exc)))
        else:
            outcomes.append(BulkOutcome(after, True, _("Done."), changed=after.version != ticket.version))
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
