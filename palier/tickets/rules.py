"""Pure ticket rules: the status transition table and the default priority matrix. No ORM."""

from __future__ import annotations

from palier.tickets.models import Level, Ticket

S = Ticket.Status

_OPEN_WORK = {
    S.NEW,
    S.ASSIGNED,
    S.IN_PROGRESS,
    S.PENDING_REQUESTER,
    S.PENDING_VENDOR,
    S.PENDING_CHANGE,
    S.PENDING_APPROVAL,
}
_PENDING = {S.PENDING_REQUESTER, S.PENDING_VENDOR, S.PENDING_CHANGE}

# from-status -> statuses an agent may move the ticket to
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.ASSIGNED, S.IN_PROGRESS, *_PENDING, S.PENDING_APPROVAL, S.RESOLVED, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.NEW, S.IN_PROGRESS, *_PENDING, S.PENDING_APPROVAL, S.RESOLVED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, *_PENDING, S.RESOLVED, S.CANCELLED}),
    S.PENDING_REQUESTER: frozenset(
        {S.ASSIGNED, S.IN_PROGRESS, *(_PENDING - {S.PENDING_REQUESTER}), S.RESOLVED, S.CANCELLED}
    ),
    S.PENDING_VENDOR: frozenset({S.ASSIGNED, S.IN_PROGRESS, *(_PENDING - {S.PENDING_VENDOR}), S.RESOLVED, S.CANCELLED}),
    S.PENDING_CHANGE: frozenset({S.ASSIGNED, S.IN_PROGRESS, *(_PENDING - {S.PENDING_CHANGE}), S.RESOLVED, S.CANCELLED}),
    # a service request waiting for its approvals (set by the catalog); a rejection closes it
    S.PENDING_APPROVAL: frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.CANCELLED, S.CLOSED}),
    # reopening (resolved -> in progress) is only allowed within the reopen window
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}

# what a requester may do to their own ticket: withdraw it, reopen it, or confirm it closed
REQUESTER_TRANSITIONS: dict[str, frozenset[str]] = {
    **{status: frozenset({S.CANCELLED}) for status in _OPEN_WORK},
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),
}


def allowed_targets(current: str, *, as_requester: bool) -> frozenset[str]:
    table = REQUESTER_TRANSITIONS if as_requester else TRANSITIONS
    return table.get(current, frozenset())


def is_reopen(current: str, target: str) -> bool:
    return current == S.RESOLVED and target in _OPEN_WORK


# ITIL default: impact x urgency -> P1..P4
DEFAULT_MATRIX: dict[tuple[str, str], int] = {
    (Level.HIGH, Level.HIGH): 1,
    (Level.HIGH, Level.MEDIUM): 2,
    (Level.MEDIUM, Level.HIGH): 2,
    (Level.HIGH, Level.LOW): 3,
    (Level.MEDIUM, Level.MEDIUM): 3,
    (Level.LOW, Level.HIGH): 3,
    (Level.MEDIUM, Level.LOW): 4,
    (Level.LOW, Level.MEDIUM): 4,
    (Level.LOW, Level.LOW): 4,
}
