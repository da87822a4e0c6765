"""Change figures (docs/reports.md, "Changes"): how many changes ended well, their risk, the
share of emergencies, and the failed ones with what they caused.

Changes are not tickets: the scope gives only the reach. A manager counts the changes of their
groups and those with no group; an administrator every change; a group filter keeps that group's.

* a change **closed** in the period is one whose ``closed_at`` lies in it; the **success rate**
  is the successful ones over those closed with an outcome other than "cancelled" (a cancelled
  change was never implemented);
* a **failed** change is closed as failed or rolled back;
* the **emergency share** is the emergency changes among those raised (created) in the period;
* **by risk** counts the changes raised in the period at each risk level, and, of those closed in
  the period, the successful and failed ones;
* **failed changes** lists those closed failed or rolled back in the period with the incidents
  they caused (``ChangeTicket`` relation "caused") and the problems they caused.

Every function runs a constant number of aggregate queries.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from palier.changes.models import RISK_ORDER, Change, ChangeProblem, ChangeTicket, Risk
from palier.reports.filters import Scope
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Table

O = Change.Outcome  # noqa: E741
FAILED = (O.FAILED, O.ROLLED_BACK)
MAX_FAILED_ROWS = 50


def changes_in_reach(scope: Scope) -> QuerySet[Change]:
    """The changes the scope reaches (its groups and the unowned ones; a group filter: that group)."""
    qs = Change.objects.all()
    if scope.filters.group is not None:
        return qs.filter(group_id=scope.filters.group)
    if scope.group_ids is not None:
        return qs.filter(Q(group_id__in=scope.group_ids) | Q(group__isnull=True))
    return qs


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def change_kpis(*, scope: Scope, period: Period) -> list[Kpi]:
    """Changes closed (not cancelled), success rate, failed changes and emergency share, with the
    previous period's. Two queries."""
    previous = period.previous()
    changes = changes_in_reach(scope).order_by()
    now, before = Q(closed_at__gte=period.start), Q(closed_at__lt=period.start)
    done = Q(status=Change.Status.CLOSED) & ~Q(outcome=O.CANCELLED)
    closed = changes.filter(closed_at__gte=previous.start, closed_at__lt=period.end).aggregate(
        done_now=Count("pk", filter=done & now),
        done_before=Count("pk", filter=done & before),
        ok_now=Count("pk", filter=Q(outcome=O.SUCCESSFUL) & now),
        ok_before=Count("pk", filter=Q(outcome=O.SUCCESSFUL) & before),
        failed_now=Count("pk", filter=Q(outcome__in=FAILED) & now),
        failed_before=Count("pk", filter=Q(outcome__in=FAILED) & before),
    )
    raised = changes.filter(created_at__gte=previous.start, created_at__lt=period.end).aggregate(
        now=Count("pk", filter=Q(created_at__gte=period.start)),
        before=Count("pk", filter=Q(created_at__lt=period.start)),
        urgent_now=Count("pk", filter=Q(kind=Change.Kind.EMERGENCY, created_at__gte=period.start)),
        urgent_before=Count("pk", filter=Q(kind=Change.Kind.EMERGENCY, created_at__lt=period.start)),
    )
    return [
        Kpi(key="changes_closed", value=closed["done_now"], previous=closed["done_before"], better="none"),
        Kpi(
            key="change_success_rate",
            value=_rate(closed["ok_now"], closed["done_now"]),
            previous=_rate(closed["ok_before"], closed["done_before"]),
            unit="percent",
        ),
        Kpi(key="changes_failed", value=closed["failed_now"], previous=closed["failed_before"], better="down"),
        Kpi(
            key="emergency_share",
            value=_rate(raised["urgent_now"], raised["now"]),
            previous=_rate(raised["urgent_before"], raised["before"]),
            unit="percent",
            better="down",
        ),
    ]


def changes_by_risk(*, scope: Scope, period: Period) -> Table:
    """Per risk level (key: the level): changes raised in the period, and of those closed in it
    the successful and the failed ones. One query."""
    raised, closed = (
        Q(created_at__gte=period.start, created_at__lt=period.end),
        Q(closed_at__gte=period.start, closed_at__lt=period.end),
    )
    rows = (
        changes_in_reach(scope)
        .filter(raised | closed)
        .order_by()
        .values("risk")
        .annotate(
            raised=Count("pk", filter=raised),
            successful=Count("pk", filter=closed & Q(outcome=O.SUCCESSFUL)),
            failed=Count("pk", filter=closed & Q(outcome__in=FAILED)),
        )
    )
    found: dict[str, dict[str, int]] = {
        row["risk"]: {"raised": row["raised"], "successful": row["successful"], "failed": row["failed"]} for row in rows
    }
    columns = [("raised", _("Raised")), ("successful", _("Successful")), ("failed", _("Failed"))]
    table_rows = [
        Row(
            key=risk,
            label=str(Risk(risk).label),
            cells=[found.get(risk, {}).get(name, 0) for name, _label in columns],
        )
        for risk in RISK_ORDER
    ]
    return Table(key="changes_by_risk", columns=columns, rows=table_rows)


def failed_changes(*, scope: Scope, period: Period) -> Table:
    """The changes closed failed or rolled back in the period, newest first (key: the change's
    id), with how many incidents they caused and the problems they caused. Three queries."""
    changes = list(
        changes_in_reach(scope)
        .filter(closed_at__gte=period.start, closed_at__lt=period.end, outcome__in=FAILED)
        .order_by("-closed_at", "-id")
        .values("id", "number", "title", "outcome", "risk", "closed_at")[:MAX_FAILED_ROWS]
    )
    ids = [c["id"] for c in changes]
    incidents = dict(
        ChangeTicket.objects.filter(change_id__in=ids, relation=ChangeTicket.Relation.CAUSED)
        .order_by()
        .values("change_id")
        .annotate(n=Count("pk"))
        .values_list("change_id", "n")
    )
    problems: dict[int, list[str]] = {}
    links = ChangeProblem.objects.filter(change_id__in=ids, relation=ChangeProblem.Relation.CAUSED)
    for change_id, number in links.order_by("problem__number").values_list("change_id", "problem__number"):
        problems.setdefault(change_id, []).append(f"PRB-{number}")
    columns = [
        ("outcome", _("Outcome")),
        ("risk", _("Risk")),
        ("closed", _("Closed")),
        ("incidents_caused", _("Incidents caused")),
        ("problems_caused", _("Problems caused")),
    ]
    rows = [
        Row(
            key=str(c["id"]),
            label=f"CHG-{c['number']} {c['title']}",
            cells=[
                str(O(c["outcome"]).label),
                str(Risk(c["risk"]).label),
                c["closed_at"].astimezone(period.zone).isoformat(timespec="minutes") if c["closed_at"] else "",
                incidents.get(c["id"], 0),
                ", ".join(problems.get(c["id"], [])),
            ],
        )
        for c in changes
    ]
    return Table(key="failed_changes", columns=columns, rows=rows)


METRICS: dict[str, Callable[..., object]] = {
    "change_kpis": change_kpis,
    "changes_by_risk": changes_by_risk,
    "failed_changes": failed_changes,
}
