"""What automation rules read about a ticket's problem and major incident, for a batch of
tickets: one query for the problem links, one for the major incidents (declared on the ticket
or attached to one)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from palier.problems.models import MajorIncident, MajorIncidentLink, ProblemIncident


@dataclass(frozen=True)
class ProblemFacts:
    reference: str  # PRB-n
    status: str
    has_workaround: bool


def problems_by_ticket(ticket_ids: Iterable[int]) -> dict[int, ProblemFacts]:
    """The problem of each ticket linked to one (one query)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = ProblemIncident.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "problem__number", "problem__status", "problem__workaround"
    )
    return {
        ticket_id: ProblemFacts(
            reference=f"PRB-{number}", status=status, has_workaround=bool((workaround or "").strip())
        )
        for ticket_id, number, status, workaround in rows
    }


def major_ticket_ids(ticket_ids: Iterable[int]) -> frozenset[int]:
    """Those of ``ticket_ids`` that are a major incident or attached to one (one query)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return frozenset()
    declared = MajorIncident.objects.filter(ticket_id__in=ids).order_by().values_list("ticket_id", flat=True)
    attached = MajorIncidentLink.objects.filter(ticket_id__in=ids).order_by().values_list("ticket_id", flat=True)
    return frozenset(declared.union(attached))
