"""The only writer of ``ProblemEvent`` and ``MajorIncidentUpdate``: called inside the service's
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from palier.assets.history import plain
from palier.people.models import User

from .models import Problem, ProblemEvent


def record(problem: Problem, kind: str, *, actor: User | None, data: Mapping[str, Any] | None = None) -> ProblemEvent:
    return ProblemEvent.objects.create(
        problem=problem,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        data=plain(dict(data or {})),
    )
