"""Extension points of the ticket services, so other domains react to ticket changes without the
ticket code knowing them (routing and assignment, SLA clocks, later automation rules).

Apps register their functions in ``AppConfig.ready()``; they run in ``INSTALLED_APPS`` order,
inside the service's transaction, with the ticket row locked:

- ``before_open(ticket, draft)``: the ticket is built but not saved yet. Routing fills ``group``,
  ``category``, ``priority`` and ``draft.tags``; assignment fills ``assignee``.
- ``after_open(ticket)``: the ticket and its ``created`` event are saved.
- ``after_change(ticket, old)``: fields changed; ``old`` maps each changed field name to its
  previous value (``status``, ``priority``, ``group``, ``assignee``, ``category``,
  ``first_response_at``…). Called by every service that saves a changed ticket. Keys starting
  with ``_`` are facts rather than fields: ``_reply_by`` (the author of a public reply).

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

before_open: list[BeforeOpen] = []
after_open: list[AfterOpen] = []
after_change: list[AfterChange] = []


def register(
    *, before: BeforeOpen | None = None, opened: AfterOpen | None = None, changed: AfterChange | None = None
) -> None:
    """Register hooks once (``ready()`` may run twice in tests)."""
    for hook, registry in ((before, before_open), (opened, after_open), (changed, after_change)):
        if hook is not None and hook not in registry:
            registry.append(hook)  # type: ignore[arg-type]


def run_before_open(ticket: Ticket, draft: Draft) -> None:
    for hook in before_open:
        hook(ticket, draft)


def run_after_open(ticket: Ticket) -> None:
    for hook in after_open:
        hook(ticket)


def run_after_change(ticket: Ticket, old: dict[str, Any]) -> None:
    if not old:
        return
    for hook in after_change:
        hook(ticket, old)
