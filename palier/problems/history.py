"""The only writer of ``ProblemEvent`` and ``MajorIncidentUpdate``: called inside the service's
transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from palier.assets.history import plain
from palier.people.models import User

from .models import Problem, ProblemEvent

# called with each new event, in the recording transaction (``PROBLEM_EVENT_RECORDED`` in
# ``palier/events.py``): the higher apps that react to a problem's history (automation, webhooks)
ON_RECORDED: list[Callable[[ProblemEvent], None]] = []


def record(problem: Problem, kind: str, *, actor: User | None, data: Mapping[str, Any] | None = None) -> ProblemEvent:
    event = ProblemEvent.objects.create(
        problem=problem,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        data=plain(dict(data or {})),
    )
    for hook in ON_RECORDED:
        hook(event)
    return event
