"""Problem figures (docs/reports.md, "Problems"): problems opened and resolved, open known
errors, and the share of incidents linked to a problem.

Problems are not tickets: the scope gives only the reach, as for changes (a manager counts the
problems of their groups and those with no group; an administrator every problem; a group filter
keeps that group's). The incidents' share counts the scope's own tickets.

* **opened**: problems created in the period; **resolved**: problems whose ``resolved_at`` lies in
  it (a problem resolved, reopened and resolved again counts at its latest resolution);
* **open known errors**: problems in "known error" now (no previous figure: a state, not a flow);
* **incidents with a problem**: of the incidents created in the period in scope, the share linked
  to a problem now.

Every function runs a constant number of aggregate queries.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from palier.problems.models import Problem, ProblemIncident
from palier.reports.filters import Scope
from palier.reports.periods import Period
from palier.reports.types import Kpi
from palier.tickets.models import Ticket


def problems_in_reach(scope: Scope) -> QuerySet[Problem]:
    qs = Problem.objects.all()
    if scope.filters.group is not None:
        return qs.filter(group_id=scope.filters.group)
    if scope.group_ids is not None:
        return qs.filter(Q(group_id__in=scope.group_ids) | Q(group__isnull=True))
    return qs


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def problem_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """Problems opened and resolved, open known errors, incidents linked to a problem (share), with
    the previous period's. Three queries."""
    previous = period.previous()
    problems = problems_in_reach(scope).order_by()
    span = Q(created_at__gte=previous.start, created_at__lt=period.end) | Q(
        resolved_at__gte=previous.start, resolved_at__lt=period.end
    )
    counts = problems.filter(span).aggregate(
        opened_now=Count("pk", filter=Q(created_at__gte=period.start, created_at__lt=period.end)),
        opened_before=Count("pk", filter=Q(created_at__gte=previous.start, created_at__lt=period.start)),
        resolved_now=Count("pk", filter=Q(resolved_at__gte=period.start, resolved_at__lt=period.end)),
        resolved_before=Count("pk", filter=Q(resolved_at__gte=previous.start, resolved_at__lt=period.start)),
    )
    known = problems.filter(status=Problem.Status.KNOWN_ERROR).count()
    linked = ProblemIncident.objects.filter(ticket_id=OuterRef("pk"))
    incidents = (
        scope.tickets.filter(kind=Ticket.Kind.INCIDENT, created_at__gte=previous.start, created_at__lt=period.end)
        .order_by()
        .annotate(has_problem=Exists(linked))
        .aggregate(
            now=Count("pk", filter=Q(created_at__gte=period.start)),
            before=Count("pk", filter=Q(created_at__lt=period.start)),
            linked_now=Count("pk", filter=Q(created_at__gte=period.start, has_problem=True)),
            linked_before=Count("pk", filter=Q(created_at__lt=period.start, has_problem=True)),
        )
    )
    return [
        Kpi(key="problems_opened", value=counts["opened_now"], previous=counts["opened_before"], better="none"),
        Kpi(key="problems_resolved", value=counts["resolved_now"], previous=counts["resolved_before"]),
        Kpi(key="known_errors_open", value=known, previous=None, better="none"),
        Kpi(
            key="incidents_with_problem_share",
            value=_rate(incidents["linked_now"], incidents["now"]),
            previous=_rate(incidents["linked_before"], incidents["before"]),
            unit="percent",
            better="none",
        ),
    ]


METRICS: dict[str, Callable[..., object]] = {"problem_kpis": problem_kpis}
