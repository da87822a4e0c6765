"""The change lifecycle as data (pure): which status may follow which, for each type of change.

draft → assessment → awaiting approval → approved (or rejected) → scheduled → implementing →
review → closed. A standard change (from a pre-approved template) skips assessment and approval:
draft → scheduled. An emergency change may go from draft straight to its board. Approved and
rejected are set only by the approval engine (``palier.changes.approvals``), never by hand. Any
change not yet closed may be cancelled (closed with the outcome "cancelled").
"""

from __future__ import annotations

from palier.changes.models import Change

S = Change.Status
K = Change.Kind
O = Change.Outcome  # noqa: E741

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.ASSESSMENT, S.AWAITING_APPROVAL, S.SCHEDULED, S.CLOSED}),
    S.ASSESSMENT: frozenset({S.DRAFT, S.AWAITING_APPROVAL, S.CLOSED}),
    S.AWAITING_APPROVAL: frozenset({S.ASSESSMENT, S.APPROVED, S.REJECTED, S.CLOSED}),
    S.APPROVED: frozenset({S.SCHEDULED, S.CLOSED}),
    S.REJECTED: frozenset({S.DRAFT, S.CLOSED}),
    S.SCHEDULED: frozenset({S.IMPLEMENTING, S.CLOSED}),
    S.IMPLEMENTING: frozenset({S.REVIEW}),
    S.REVIEW: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# the engine's decisions: refused when asked by a person
BY_APPROVAL_ONLY: frozenset[str] = frozenset({S.APPROVED, S.REJECTED})

# moves that only some types of change make
ONLY_FOR: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SCHEDULED): frozenset({K.STANDARD}),
    (S.DRAFT, S.AWAITING_APPROVAL): frozenset({K.EMERGENCY}),
    (S.DRAFT, S.ASSESSMENT): frozenset({K.NORMAL, K.EMERGENCY}),
    (S.ASSESSMENT, S.AWAITING_APPROVAL): frozenset({K.NORMAL, K.EMERGENCY}),
}

# what must be filled before entering a status (a standard change gets its plans from the template)
REQUIRES: dict[str, tuple[str, ...]] = {
    S.AWAITING_APPROVAL: ("planned_start", "planned_end", "implementation_plan", "backout_plan"),
    S.SCHEDULED: ("planned_start", "planned_end", "implementation_plan"),
}

# outcomes a closing may record, by the status closed from
OUTCOMES_FROM: dict[str, frozenset[str]] = {
    S.REVIEW: frozenset({O.SUCCESSFUL, O.FAILED, O.ROLLED_BACK}),
}
CANCELLED_ONLY = frozenset({O.CANCELLED})

OPEN_STATUSES: frozenset[str] = frozenset(set(S.values) - {S.CLOSED})


def allowed_targets(current: str, kind: str) -> frozenset[str]:
    """The statuses a person may move a change of ``kind`` to from ``current``."""
    targets = TRANSITIONS.get(current, frozenset())
    return frozenset(t for t in targets if kind in ONLY_FOR.get((current, t), frozenset(K.values)))


def outcomes_for(current: str) -> frozenset[str]:
    return OUTCOMES_FROM.get(current, CANCELLED_ONLY)
