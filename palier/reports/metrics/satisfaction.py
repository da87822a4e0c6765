"""Customer satisfaction (CSAT): the requesters' answers to the survey sent after resolution.

* An **answer** counts in the period it was first given (``SurveyResponse.answered_at``; an
  answer changed later keeps that date and shows its latest score and comment).
* The **response rate** follows the requests: of the tickets whose requester was first asked in
  the period (``SurveyRequest.sent_at``, written by ``surveys.services.request_survey`` when it
  queues the survey email; a reopened and resolved-again ticket is asked again but counted once),
  the share that has an answer now. It never exceeds 100 %; the last days' figure grows as late
  answers arrive.
* **By group and by agent**: the ticket's group and assignee, which are those it was resolved by
  unless it was moved after resolution (a resolved ticket normally stays where it was solved).

Only the scope's tickets count (the viewer's groups, the filters). Every function runs a constant
number of aggregate queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext as _

from palier.reports.filters import Scope
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Table
from palier.surveys.models import SurveyRequest, SurveyResponse
from palier.tickets.models import Ticket

SCORES = (1, 2, 3, 4, 5)
COMMENTS_LIMIT = 20


def _in_scope(scope: Scope) -> Q:
    """The scope's tickets (no subquery when the scope is every ticket)."""
    if not scope.tickets.query.where:
        return Q()
    return Q(ticket_id__in=scope.tickets.order_by().values("pk"))


def _answers(scope: Scope, start: datetime, end: datetime) -> QuerySet[SurveyResponse]:
    return SurveyResponse.objects.filter(_in_scope(scope), answered_at__gte=start, answered_at__lt=end).order_by()


def _average(value: float | None) -> float | None:
    return round(float(value), 2) if value is not None else None


def _rate(answered: int, sent: int) -> float | None:
    return round(100 * answered / sent, 1) if sent else None


def csat_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """The average score (1-5) of the period's answers and the response rate (percent of the
    period's survey requests answered), with the previous period's. Two queries."""
    previous = period.previous()
    now_q = Q(answered_at__gte=period.start)
    before_q = Q(answered_at__lt=period.start)
    scores = _answers(scope, previous.start, period.end).aggregate(
        now=Avg("score", filter=now_q), before=Avg("score", filter=before_q)
    )
    answered = Q(ticket__survey_response__isnull=False)
    sent_now, sent_before = Q(sent_at__gte=period.start), Q(sent_at__lt=period.start)
    requests = (
        SurveyRequest.objects.filter(_in_scope(scope), sent_at__gte=previous.start, sent_at__lt=period.end)
        .order_by()
        .aggregate(
            sent=Count("pk", filter=sent_now),
            answered=Count("pk", filter=sent_now & answered),
            sent_before=Count("pk", filter=sent_before),
            answered_before=Count("pk", filter=sent_before & answered),
        )
    )
    return [
        Kpi(key="csat_average", value=_average(scores["now"]), previous=_average(scores["before"]), unit="score"),
        Kpi(
            key="csat_response_rate",
            value=_rate(requests["answered"], requests["sent"]),
            previous=_rate(requests["answered_before"], requests["sent_before"]),
            unit="percent",
        ),
    ]


def csat_distribution(*, scope: Scope, period: Period) -> Table:
    """How many of the period's answers gave each score, 1 to 5 (every score listed). One query."""
    counts = dict.fromkeys(SCORES, 0)
    for score, n in (
        _answers(scope, period.start, period.end).values("score").annotate(n=Count("pk")).values_list("score", "n")
    ):
        counts[score] = n
    rows = [Row(key=str(score), label=str(score), cells=[counts[score]]) for score in SCORES]
    return Table(key="csat", columns=[("count", _("Answers"))], rows=rows)


def csat_comments(*, scope: Scope, period: Period) -> Table:
    """The latest 20 answers of the period with a comment, newest first (key: ticket id). One query."""
    rows = (
        _answers(scope, period.start, period.end)
        .exclude(comment="")
        .order_by("-answered_at", "-pk")
        .values(
            "ticket_id", "ticket__kind", "ticket__number", "ticket__subject", "score", "comment", "answered_at",
            "ticket__group__name", "ticket__assignee__full_name",
        )[:COMMENTS_LIMIT]
    )  # fmt: skip
    columns = [
        ("score", _("Score")),
        ("comment", _("Comment")),
        ("answered_at", _("Answered")),
        ("group", _("Group")),
        ("assignee", _("Agent")),
    ]
    table_rows = []
    for row in rows:
        reference = f"{Ticket.PREFIXES.get(row['ticket__kind'], 'TKT')}-{row['ticket__number']}"
        answered_at = row["answered_at"].astimezone(period.zone).isoformat(timespec="minutes")
        cells: list[float | int | str | None] = [
            row["score"],
            row["comment"],
            answered_at,
            row["ticket__group__name"] or "",
            row["ticket__assignee__full_name"] or "",
        ]
        table_rows.append(Row(key=str(row["ticket_id"]), label=f"{reference} {row['ticket__subject']}", cells=cells))
    return Table(key="comments", columns=columns, rows=table_rows)


def _breakdown(scope: Scope, period: Period, *, by: str, table: str, nobody: str) -> Table:
    """Answers and average score of the period per ``by`` ("group" or "assignee"), most answers
    first. One query."""
    name = "ticket__group__name" if by == "group" else "ticket__assignee__full_name"
    found = (
        _answers(scope, period.start, period.end)
        .values(f"ticket__{by}_id", name)
        .annotate(count=Count("pk"), average=Avg("score"))
    )
    rows = [
        Row(
            key=str(row[f"ticket__{by}_id"]) if row[f"ticket__{by}_id"] is not None else "none",
            label=row[name] or nobody,
            cells=[row["count"], _average(row["average"])],
        )
        for row in found
    ]
    rows.sort(key=lambda row: (-int(row.cells[0] or 0), row.label.lower()))
    return Table(key=table, columns=[("count", _("Answers")), ("average", _("Average score"))], rows=rows)


def csat_by_group(*, scope: Scope, period: Period) -> Table:
    """Answers and average score per group of the answered tickets. One query."""
    return _breakdown(scope, period, by="group", table="csat_groups", nobody=_("No group"))


def csat_by_agent(*, scope: Scope, period: Period) -> Table:
    """Answers and average score per assignee of the answered tickets. One query."""
    return _breakdown(scope, period, by="assignee", table="csat_agents", nobody=_("Unassigned"))


METRICS: dict[str, Callable[..., object]] = {
    "csat_kpis": csat_kpis,
    "csat_distribution": csat_distribution,
    "csat_comments": csat_comments,
    "csat_by_group": csat_by_group,
    "csat_by_agent": csat_by_agent,
}
