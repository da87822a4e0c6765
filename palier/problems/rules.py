"""The problem lifecycle as data (pure): which status may follow which.

new → investigating → root cause known → known error → resolved → closed, with the steps a
real investigation takes: a problem may be resolved from any open status (the fix came first),
a resolved problem reopens to investigating when incidents come back, and only a resolved
problem closes. A closed problem is final.
"""

from __future__ import annotations

from palier.problems.models import Problem

S = Problem.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.INVESTIGATING, S.ROOT_CAUSE_KNOWN, S.KNOWN_ERROR, S.RESOLVED}),
    S.INVESTIGATING: frozenset({S.ROOT_CAUSE_KNOWN, S.KNOWN_ERROR, S.RESOLVED}),
    S.ROOT_CAUSE_KNOWN: frozenset({S.INVESTIGATING, S.KNOWN_ERROR, S.RESOLVED}),
    S.KNOWN_ERROR: frozenset({S.INVESTIGATING, S.ROOT_CAUSE_KNOWN, S.RESOLVED}),
    S.RESOLVED: frozenset({S.INVESTIGATING, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# what must be written before a problem may enter a status
REQUIRES: dict[str, tuple[str, ...]] = {
    S.ROOT_CAUSE_KNOWN: ("root_cause",),
    S.KNOWN_ERROR: ("root_cause", "workaround"),
}

# statuses only a problem manager may set
MANAGER_ONLY: frozenset[str] = frozenset({S.RESOLVED, S.CLOSED})


def allowed_targets(current: str) -> frozenset[str]:
    return TRANSITIONS.get(current, frozenset())
