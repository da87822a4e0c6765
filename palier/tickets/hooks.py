"""Extension points of the ticket services, so other domains react to ticket changes without the
ticket code knowing them (routing and assignment, SLA clocks, later automation rules).

The hooks are listed in ``palier/events.py`` (registered by its ``wire()``); they run in the
order listed there, inside the service's transaction, with the ticket row locked:

- ``before_open(ticket, draft)``: the ticket is built but not saved yet. Routing fills ``group``,
  ``category``, ``priority`` and ``draft.tags``; assignment fills ``assignee``.
- ``after_open(ticket)``: the ticket and its ``created`` event are saved.
- ``before_open_many(pairs)`` / ``after_open_many(tickets)``: the same for several tickets
  opened in one transaction (``pairs`` is a list of ``(ticket, draft)``). ``register`` takes either
  form (the map uses the batch form); a single-form hook is called once per ticket. A batch form lets
  an app read what it needs once for the whole batch (``open_tickets`` under load).
- ``after_change(ticket, old)``: fields changed; ``old`` maps each changed field name to its
  previous value (``status``, ``priority``, ``group``, ``assignee``, ``category``,
  ``first_response_at``…). Called by every service that saves a changed ticket. Keys starting
  with ``_`` are facts rather than fields: ``_reply_by`` (the author of a public reply).
- ``before_resolve(ticket, by=...)``: the ticket (locked, still in its old status) is about to
  become resolved; a guard raises a ``DomainError`` or ``ValidationError`` with the reason to refuse
  (open mandatory tasks). Run by ``transition_ticket`` before anything is written.
- ``assign(ticket, by=...)``: give an unassigned open ticket to a member of its group (routing's
  strategies) and return it; run by ``move_to_group(..., auto_assign=True)``.

A hook that raises aborts the whole change, so hooks must not fail on data they cannot handle
(a rule pointing at a deleted group, a broken calendar): they log, record and carry on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from palier.people.models import User
    from palier.tickets.models import Ticket


@dataclass
class Draft:
    """What the caller of ``open_ticket`` asked for, beside the unsaved ticket."""

    by: User | None
    group_chosen: bool
    assignee_chosen: bool
    tags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why the ticket went where it went (for its history)


BeforeOpen = Callable[["Ticket", Draft], None]
AfterOpen = Callable[["Ticket"], None]
AfterChange = Callable[["Ticket", dict[str, Any]], None]
BeforeOpenMany = Callable[[list[tuple["Ticket", Draft]]], None]
AfterOpenMany = Callable[[list["Ticket"]], None]
Assign = Callable[..., "Ticket"]  # (ticket, *, by) -> ticket
BeforeResolve = Callable[..., None]  # (ticket, *, by) -> None, raises to refuse

# each registry keeps the registration order; an entry is ("one", hook) or ("many", hook)
before_open: list[tuple[str, Any]] = []
after_open: list[tuple[str, Any]] = []
after_change: list[AfterChange] = []
assigners: list[Assign] = []
resolve_guards: list[BeforeResolve] = []


def register(
    *,
    before: BeforeOpen | None = None,
    opened: AfterOpen | None = None,
    changed: AfterChange | None = None,
    before_many: BeforeOpenMany | None = None,
    opened_many: AfterOpenMany | None = None,
    assign: Assign | None = None,
    before_resolve: BeforeResolve | None = None,
) -> None:
    """Register hooks once, after those already registered (``palier.events.wire()``; a test may
    add a temporary hook and remove it from the registry list afterwards)."""
    for form, hook, registry in (
        ("one", before, before_open),
        ("many", before_many, before_open),
        ("one", opened, after_open),
        ("many", opened_many, after_open),
    ):
        if hook is not None and (form, hook) not in registry:
            registry.append((form, hook))
    if changed is not None and changed not in after_change:
        after_change.append(changed)
    if assign is not None and assign not in assigners:
        assigners.append(assign)
    if before_resolve is not None and before_resolve not in resolve_guards:
        resolve_guards.append(before_resolve)


def run_before_open(pairs: list[tuple[Ticket, Draft]]) -> None:
    for form, hook in before_open:
        if form == "many":
            hook(pairs)
        else:
            for ticket, draft in pairs:
                hook(ticket, draft)


def run_after_open(tickets: list[Ticket]) -> None:
    for form, hook in after_open:
        if form == "many":
            hook(tickets)
        else:
            for ticket in tickets:
                hook(ticket)


def run_after_change(ticket: Ticket, old: dict[str, Any]) -> None:
    if not old:
        return
    for hook in after_change:
        hook(ticket, old)


def run_assign(ticket: Ticket, *, by: User | None) -> Ticket:
    for hook in assigners:
        ticket = hook(ticket, by=by)
    return ticket


def run_before_resolve(ticket: Ticket, *, by: User | None) -> None:
    for guard in resolve_guards:
        guard(ticket, by=by)
