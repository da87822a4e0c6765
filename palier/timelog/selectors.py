"""Reads of time tracking: a ticket's entries, minutes per ticket and per agent, the rates in
force. Each function runs a fixed number of queries whatever it returns."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from palier.people.models import Membership, User
from palier.tickets.models import Ticket
from palier.tickets.models import TimeEntry as CallTime
from palier.tickets.selectors import tickets_visible_to
from palier.timelog import permissions
from palier.timelog.models import CostRate, TimeEntry

ZERO = Decimal(0)


@dataclass(frozen=True)
class EntryRow:
    """One entry as the ticket page lists it, with what the viewer may do with it."""

    entry: TimeEntry
    can_change: bool


@dataclass(frozen=True)
class TicketTime:
    rows: list[EntryRow]
    total_minutes: int
    can_log: bool


def ticket_entries(user: User, ticket: Ticket) -> list[TimeEntry]:
    """The time entries of a ticket ``user`` may see (none for a requester), oldest day first."""
    if not permissions.can(user, "view", ticket, seen=True):
        return []
    return list(TimeEntry.objects.filter(ticket_id=ticket.pk).select_related("author"))


def ticket_time(user: User, ticket: Ticket, *, now: datetime | None = None) -> TicketTime:
    """The ticket page's time section: entries, their total, and what the viewer may do (one query;
    ``ticket`` is one the caller already checked ``user`` may see)."""
    now = now or timezone.now()
    entries = ticket_entries(user, ticket)
    return TicketTime(
        rows=[EntryRow(entry=e, can_change=permissions.can_change(user, e, now=now)) for e in entries],
        total_minutes=sum(e.minutes for e in entries),
        can_log=permissions.can(user, "log", ticket, seen=True),
    )


def get_entry_for(user: User, entry_id: int) -> TimeEntry:
    """An entry of a ticket ``user`` may see, or 404 (an invisible ticket's time is absent)."""
    entry = (
        TimeEntry.objects.select_related("ticket", "author")
        .filter(pk=entry_id, ticket__in=tickets_visible_to(user))
        .first()
    )
    if entry is None or not permissions.can(user, "view", entry.ticket, seen=True):
        raise Http404("time entry")
    return entry


def minutes_per_ticket(ticket_ids: Iterable[int]) -> dict[int, int]:
    """Minutes logged per ticket id (tickets with none are absent)."""
    rows = TimeEntry.objects.filter(ticket_id__in=list(ticket_ids)).values("ticket_id").annotate(total=Sum("minutes"))
    return {row["ticket_id"]: int(row["total"]) for row in rows}


def minutes_by_agent(
    *, ticket_ids_or_scope: QuerySet[Ticket] | Iterable[int], since: date, until: date
) -> dict[int, int]:
    """Minutes logged per author on the given tickets (a ticket queryset, e.g. a report's scope, or
    ids), from ``since`` to ``until`` included: time entries by work day, phone calls by their day
    in the desk's time zone. Authors with none are absent (two queries)."""
    if isinstance(ticket_ids_or_scope, QuerySet):
        on_tickets = Q(ticket__in=ticket_ids_or_scope)
    else:
        on_tickets = Q(ticket_id__in=list(ticket_ids_or_scope))
    totals: dict[int, int] = defaultdict(int)
    entries = TimeEntry.objects.filter(on_tickets, work_date__gte=since, work_date__lte=until)
    for author_id, minutes in (
        entries.values("author_id").annotate(total=Sum("minutes")).values_list("author_id", "total")
    ):
        totals[author_id] += int(minutes)
    calls = CallTime.objects.filter(
        on_tickets, user__isnull=False, created_at__date__gte=since, created_at__date__lte=until
    )
    for user_id, minutes in calls.values("user_id").annotate(total=Sum("minutes")).values_list("user_id", "total"):
        totals[user_id] += int(minutes)
    return dict(totals)


@dataclass
class RateBook:
    """Every cost rate, by target ("level:2", "agent:17", "group:4"), for lookups by day."""

    days: dict[str, list[date]] = field(default_factory=dict)
    rows: dict[str, list[CostRate]] = field(default_factory=dict)

    def in_force(self, target: str, day: date) -> CostRate | None:
        """The rate of ``target`` with the latest ``valid_from`` on or before ``day``."""
        days = self.days.get(target)
        if not days:
            return None
        index = bisect.bisect_right(days, day) - 1
        return self.rows[target][index] if index >= 0 else None

    def hourly(self, *, agent_id: int, level: int, day: date) -> Decimal:
        """An in-house agent's hourly cost on ``day``: their own rate, else their level's, else 0."""
        rate = self.in_force(f"agent:{agent_id}", day) or self.in_force(f"level:{level}", day)
        return rate.hourly_rate if rate is not None else ZERO

    def vendor(self, *, group_id: int, day: date, agent_id: int | None = None) -> CostRate | None:
        """A vendor group's rate on ``day`` (an agent's own rate wins for their hours)."""
        if agent_id is not None and (own := self.in_force(f"agent:{agent_id}", day)) is not None:
            return own
        return self.in_force(f"group:{group_id}", day)


def rate_book() -> RateBook:
    """All cost rates, ready for lookups by day (one query; rates are a short list)."""
    book = RateBook()
    grouped: dict[str, list[CostRate]] = defaultdict(list)
    for rate in CostRate.objects.order_by("valid_from", "id"):
        grouped[rate.target_key].append(rate)
    for target, rates in grouped.items():
        book.rows[target] = rates
        book.days[target] = [r.valid_from for r in rates]
    return book


def rates_in_force(*, on: date) -> dict[str, CostRate]:
    """The rate of every target ("level:2", "agent:17", "group:4") in force on ``on`` (one query)."""
    book = rate_book()
    found = {target: book.in_force(target, on) for target in book.rows}
    return {target: rate for target, rate in found.items() if rate is not None}


@dataclass(frozen=True)
class Staffing:
    """Which level an agent's hours cost at: the highest level among their in-house groups (1 when
    they belong to none); an agent who belongs to a vendor group is that vendor's staff."""

    level: int
    vendor_group_id: int | None = None
    vendor_level: int | None = None


def staffing() -> dict[int, Staffing]:
    """Every agent's level and vendor group, from their memberships (one query). Agents absent
    from the result are level 1."""
    levels: dict[int, int] = {}
    vendors: dict[int, tuple[int, int]] = {}
    rows = Membership.objects.values_list("user_id", "group_id", "group__level", "group__is_vendor")
    for user_id, group_id, level, is_vendor in rows.order_by("group__level", "group_id"):
        if is_vendor:
            vendors[user_id] = (group_id, level)
        else:
            levels[user_id] = max(levels.get(user_id, 1), level)
    return {
        user_id: Staffing(
            level=levels.get(user_id, 1),
            vendor_group_id=vendors[user_id][0] if user_id in vendors else None,
            vendor_level=vendors[user_id][1] if user_id in vendors else None,
        )
        for user_id in set(levels) | set(vendors)
    }


@dataclass(frozen=True)
class RateHistory:
    """The admin page's list: one price list per target, newest first, and which row is in force."""

    target: str
    label: str
    rates: list[CostRate]
    current_id: int | None


def rate_history(*, today: date | None = None) -> list[RateHistory]:
    """Every rate, grouped by target (levels, then agents, then vendor groups), newest first (one
    query)."""
    today = today or timezone.localdate()
    grouped: dict[str, list[CostRate]] = defaultdict(list)
    rates = CostRate.objects.select_related("agent", "group", "created_by").order_by("-valid_from", "-id")
    for rate in rates:
        grouped[rate.target_key].append(rate)
    out = []
    for target, rows in grouped.items():
        current = next((r for r in rows if r.valid_from <= today), None)
        out.append(
            RateHistory(
                target=target, label=_target_label(rows[0]), rates=rows, current_id=current.pk if current else None
            )
        )
    order = {"level": 0, "agent": 1, "group": 2}
    return sorted(out, key=lambda h: (order[h.target.split(":")[0]], h.label))


def _target_label(rate: CostRate) -> str:
    if rate.level is not None:
        return f"L{rate.level}"
    if rate.agent is not None:
        return rate.agent.display_name
    return str(rate.group)


# --- the API's lists ----------------------------------------------------------------------------------


def entries_for(user: User, filters: dict[str, Any]) -> QuerySet[TimeEntry]:
    """Time entries ``user`` may read across tickets: an agent their own, managers and
    administrators everyone's, always on tickets they may see (none for requesters). ``ticket``,
    ``user`` (the author), ``since`` and ``until`` (days included) filter them; unordered."""
    if not user.is_active or not user.is_agent:
        return TimeEntry.objects.none()
    qs = TimeEntry.objects.select_related("author").filter(ticket__in=tickets_visible_to(user))
    if not (user.is_admin or user.role == User.Role.MANAGER):
        qs = qs.filter(author=user)
    if filters.get("ticket") is not None:
        qs = qs.filter(ticket_id=filters["ticket"])
    if filters.get("user") is not None:
        qs = qs.filter(author_id=filters["user"])
    if filters.get("since") is not None:
        qs = qs.filter(work_date__gte=filters["since"])
    if filters.get("until") is not None:
        qs = qs.filter(work_date__lte=filters["until"])
    return qs


def rates_for_api(filters: dict[str, Any]) -> QuerySet[CostRate]:
    """Cost rates, whole history, optionally of one ``level``, ``agent`` or ``group``; unordered."""
    qs = CostRate.objects.all()
    for name in ("level", "agent", "group"):
        if filters.get(name) is not None:
            qs = qs.filter(**{name: filters[name]})
    return qs


def get_rate(rate_id: int) -> CostRate:
    rate = CostRate.objects.filter(pk=rate_id).first()
    if rate is None:
        raise Http404("rate")
    return rate
