"""Assignment inside a group: strategies, availability, absences, requeueing.

The pick for a group is serialised by a row lock on the group (``SELECT … FOR NO KEY UPDATE``,
held until the creating transaction commits), so two concurrent creations never both see the
same agent as "next" or as "least loaded". An agent with a cap is also locked and recounted,
which keeps the cap when the agent belongs to several groups. SQLite serialises writers anyway.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from palier.lib.businesstime import END_OF_DAY, Calendar, CalendarError, is_business_time
from palier.notifications.models import Notification
from palier.notifications.services import notify
from palier.people.models import SupportGroup, User
from palier.routing import permissions, selectors
from palier.routing.models import Absence, Skill
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

log = logging.getLogger(__name__)

OPEN = Ticket.OPEN_STATUSES
# least-loaded: each open ticket weighs by its priority (P1 counts as four P4s)
WEIGHTS = {1: 4, 2: 3, 3: 2, 4: 1}
AGENT_ROLES = (User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN)
Strategy = SupportGroup.Strategy


@dataclass
class Candidate:
    user: User
    membership_id: int
    joined_at: datetime
    last_assigned_at: datetime | None
    open_count: int
    load: int

    @property
    def user_id(self) -> int:
        return self.user.pk


# --- working hours ---------------------------------------------------------------------------------


def _parse_time(text: str) -> time:
    if text in ("24:00", "24:00:00"):
        return END_OF_DAY
    return time.fromisoformat(text)


@lru_cache(maxsize=256)
def _calendar(hours_json: str, tz: str) -> Calendar:
    days = json.loads(hours_json)
    hours = tuple(tuple((_parse_time(a), _parse_time(b)) for a, b in day) for day in days)
    return Calendar(tz=tz, hours=hours)


def working_calendar(hours: object, tz: str) -> Calendar | None:
    """Weekly hours as a calendar, or None when there are none (always working)."""
    if isinstance(hours, str):
        hours = json.loads(hours)
    if not hours:
        return None
    return _calendar(json.dumps(hours), tz or settings.TIME_ZONE)


def is_working(hours: object, tz: str, at: datetime) -> bool:
    """Within these working hours (invalid stored hours count as always working, and log)."""
    try:
        calendar = working_calendar(hours, tz)
    except (CalendarError, ValueError, TypeError):
        log.warning("invalid working hours %r ignored", hours)
        return True
    return calendar is None or is_business_time(calendar, at)


# --- choosing ----------------------------------------------------------------------------------------


_STATUSES = ", ".join(["%s"] * len(OPEN))
_ROLES = ", ".join(["%s"] * len(AGENT_ROLES))
_WEIGHT = "CASE t.priority " + " ".join(f"WHEN {p} THEN {w}" for p, w in WEIGHTS.items()) + " ELSE 1 END"
# one statement, written in SQL because it runs on every creation: the ORM spent longer building
# it (two correlated subqueries and an EXISTS) than the database spent running it
_CANDIDATES = f"""
SELECT u.*, m.id AS m_id, m.joined_at AS m_joined, m.last_assigned_at AS m_last,
  CASE WHEN %s OR u.max_open_tickets IS NOT NULL THEN
    (SELECT COUNT(*) FROM tickets_ticket t WHERE t.assignee_id = m.user_id AND t.status IN ({_STATUSES}))
  ELSE 0 END AS open_count,
  CASE WHEN %s THEN
    (SELECT COALESCE(SUM({_WEIGHT}), 0) FROM tickets_ticket t WHERE t.assignee_id = m.user_id AND t.status IN ({_STATUSES}))
  ELSE 0 END AS load_weight
FROM people_membership m JOIN people_user u ON u.id = m.user_id
WHERE m.group_id = %s AND u.is_active = %s AND u.is_available = %s AND u.role IN ({_ROLES}) AND m.user_id <> %s
  AND NOT EXISTS (SELECT 1 FROM routing_absence a WHERE a.agent_id = m.user_id AND a.start <= %s AND a."end" > %s)
"""  # noqa: S608 (only constants are interpolated; values are parameters)


def _as_datetime(value: object) -> datetime | None:
    """A timestamp read by raw SQL: naive UTC (a datetime or a string) on SQLite, aware on PostgreSQL."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _candidates(group: SupportGroup, now: datetime, exclude: User | None) -> list[Candidate]:
    """Available members of ``group`` under their cap and within their hours, with their load."""
    at = connection.ops.adapt_datetimefield_value(now)
    # round-robin orders by turn only: the loads are counted only where a strategy or a cap needs them
    by_load = group.assignment_strategy in (Strategy.LEAST_LOADED, Strategy.SKILLS)
    params = [by_load, *OPEN, by_load, *OPEN, group.pk, True, True, *AGENT_ROLES, exclude.pk if exclude else 0, at, at]
    found = []
    for user in User.objects.raw(_CANDIDATES, params):
        extra: Any = user  # the membership and load columns
        if user.max_open_tickets is not None and extra.open_count >= user.max_open_tickets:
            continue
        if not is_working(user.working_hours, user.work_time_zone, now):
            continue
        joined = _as_datetime(extra.m_joined)
        assert joined is not None
        found.append(
            Candidate(
                user, extra.m_id, joined, _as_datetime(extra.m_last), int(extra.open_count), int(extra.load_weight)
            )
        )
    return found


def _turn(candidate: Candidate) -> tuple[bool, datetime, datetime, int]:
    """Round-robin order: never assigned first, then the longest wait; ties by join date."""
    last = candidate.last_assigned_at
    joined = candidate.joined_at
    return (last is not None, last or joined, joined, candidate.user_id)


def _ordered(group: SupportGroup, candidates: list[Candidate], ticket: Ticket) -> list[Candidate]:
    strategy = group.assignment_strategy
    if strategy == Strategy.ROUND_ROBIN:
        return sorted(candidates, key=_turn)
    if strategy == Strategy.SKILLS and ticket.category_id is not None:
        lineage = selectors.ticket_category_lineage(ticket)
        skilled = set(
            Skill.objects.filter(agent_id__in=[c.user_id for c in candidates], category_id__in=lineage).values_list(
                "agent_id", flat=True
            )
        )
        candidates = [c for c in candidates if c.user_id in skilled]
    return sorted(candidates, key=lambda c: (c.load, c.open_count, *_turn(c)))


def _lock_row(table: str, pk: int) -> None:
    """``SELECT … FOR NO KEY UPDATE`` on one row (PostgreSQL; SQLite serialises writers anyway)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR NO KEY UPDATE", [pk])  # noqa: S608


def _still_under_cap(candidate: Candidate, taken: int = 0) -> bool:
    """Lock a capped agent and count again (they may take tickets in another group meanwhile);
    ``taken``: tickets given to them earlier in this batch, not saved yet."""
    cap = candidate.user.max_open_tickets
    if cap is None:
        return True
    _lock_row("people_user", candidate.user_id)
    return Ticket.objects.filter(assignee_id=candidate.user_id, status__in=OPEN).count() + taken < cap


def pick_assignee(group: SupportGroup, *, ticket: Ticket, exclude: User | None = None) -> User | None:
    """Choose an available member of ``group`` for ``ticket`` by the group's strategy, or None.

    Call inside a transaction: the group row stays locked until it commits, so concurrent picks
    in the same group wait for this one and see its result.
    """
    return pick_assignees(group, [ticket], exclude=exclude)[0]


def pick_assignees(group: SupportGroup, tickets: list[Ticket], *, exclude: User | None = None) -> list[User | None]:
    """``pick_assignee`` for several tickets of one group, in order, with one lock and one read of
    the candidates: each pick counts the ones before it (turns, loads, caps)."""
    if group.assignment_strategy == Strategy.MANUAL or not tickets:
        return [None] * len(tickets)
    _lock_row("people_supportgroup", group.pk)
    now = timezone.now()  # read after the lock, so turns are stamped in the order they are taken
    candidates = _candidates(group, now, exclude)
    stamps = [c.last_assigned_at for c in candidates if c.last_assigned_at is not None]
    # turns must grow even if clocks differ between web nodes
    stamp = max(now, max(stamps) + timedelta(microseconds=1)) if stamps else now
    taken: dict[int, int] = {}
    chosen: list[User | None] = []
    for ticket in tickets:
        picked = next(
            (c for c in _ordered(group, candidates, ticket) if _still_under_cap(c, taken.get(c.user_id, 0))),
            None,
        )
        if picked is not None:
            picked.last_assigned_at = stamp
            picked.open_count += 1
            picked.load += WEIGHTS.get(ticket.priority, 1)
            taken[picked.user_id] = taken.get(picked.user_id, 0) + 1
            stamp += timedelta(microseconds=1)
        chosen.append(picked.user if picked is not None else None)
    _stamp_turns([c for c in candidates if c.user_id in taken])
    return chosen


def _stamp_turns(picked: list[Candidate]) -> None:
    """Write the new turns of the agents picked (one statement)."""
    if not picked:
        return
    cases = " ".join("WHEN %s THEN %s" for _ in picked)
    params: list[Any] = []
    for c in picked:
        params += [c.membership_id, connection.ops.adapt_datetimefield_value(c.last_assigned_at)]
    params += [c.membership_id for c in picked]
    marks = ", ".join(["%s"] * len(picked))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE people_membership SET last_assigned_at = CASE id {cases} END WHERE id IN ({marks})",  # noqa: S608
            params,
        )


def assign_on_open_many(tickets: list[Ticket]) -> list[str | None]:
    """Fill the assignee of new tickets from their groups (one pick per group); a note per ticket."""
    notes: list[str | None] = [None] * len(tickets)
    by_group: dict[int, list[int]] = {}
    for index, ticket in enumerate(tickets):
        group = ticket.group
        if group is not None and group.assignment_strategy != Strategy.MANUAL:
            by_group.setdefault(group.pk, []).append(index)
    for _pk, indexes in sorted(by_group.items()):  # locks in one order: two batches never deadlock
        group = tickets[indexes[0]].group
        assert group is not None
        for index, user in zip(indexes, pick_assignees(group, [tickets[i] for i in indexes]), strict=True):
            if user is None:
                notes[index] = f"no available agent ({group.assignment_strategy})"
            else:
                tickets[index].assignee = user
                notes[index] = f"assigned by {group.assignment_strategy}"
    return notes


@transaction.atomic
def assign_in_group(ticket: Ticket, *, by: User | None, exclude: User | None = None) -> Ticket:
    """Give an unassigned open ticket to a member of its group by the group's strategy, if any."""
    if ticket.assignee_id is not None or ticket.group is None or not ticket.is_open:
        return ticket
    user = pick_assignee(ticket.group, ticket=ticket, exclude=exclude)
    if user is None:
        return ticket
    return ticket_services.update_ticket(ticket, by=by, expected_version=None, changes={"assignee": user})


# --- availability ------------------------------------------------------------------------------------


@transaction.atomic
def set_availability(agent: User, available: bool, by: User | None) -> User:
    """Turn automatic assignment to ``agent`` on or off (their open tickets stay theirs)."""
    permissions.require_for_agent(by, "manage_availability", agent)
    if not agent.is_agent:
        raise ValidationError({"agent": _("Only agents take tickets.")})
    if agent.is_available != available:
        agent.is_available = available
        agent.save(update_fields=["is_available"])
    return agent


def clean_working_hours(hours: object, tz: str) -> list[list[list[str]]]:
    """Validate stored working hours: [] (always) or 7 lists of ["HH:MM", "HH:MM"], Monday first."""
    if tz:
        try:
            Calendar.always(tz)
        except CalendarError as exc:
            raise ValidationError({"time_zone": _("Unknown time zone: use a name such as Europe/Paris.")}) from exc
    if hours in (None, [], ""):
        return []
    try:
        days = [[[str(a), str(b)] for a, b in day] for day in hours]  # type: ignore[attr-defined]
        _calendar(json.dumps(days), tz or settings.TIME_ZONE)
    except (CalendarError, ValueError, TypeError) as exc:
        raise ValidationError(
            {"working_hours": _("These working hours are not valid: %(why)s") % {"why": exc}}
        ) from exc
    return days


@transaction.atomic
def set_working_hours(
    agent: User, *, by: User | None, hours: object, time_zone: str = "", max_open_tickets: int | None = None
) -> User:
    """Set the agent's weekly hours (``[]``: always), their time zone and open-ticket cap."""
    permissions.require_for_agent(by, "manage_availability", agent)
    if max_open_tickets is not None and max_open_tickets < 1:
        raise ValidationError({"max_open_tickets": _("Enter at least 1, or leave empty for no limit.")})
    agent.working_hours = clean_working_hours(hours, time_zone)
    agent.work_time_zone = time_zone
    agent.max_open_tickets = max_open_tickets
    agent.save(update_fields=["working_hours", "work_time_zone", "max_open_tickets"])
    return agent


@transaction.atomic
def add_absence(agent: User, *, by: User | None, start: datetime, end: datetime, reason: str = "") -> Absence:
    permissions.require_for_agent(by, "manage_availability", agent)
    if end <= start:
        raise ValidationError({"end": _("The end must come after the start.")})
    return Absence.objects.create(agent=agent, start=start, end=end, reason=reason.strip()[:200])


@transaction.atomic
def remove_absence(absence: Absence, *, by: User | None) -> None:
    permissions.require_for_agent(by, "manage_availability", absence.agent)
    Absence.objects.filter(pk=absence.pk).delete()


@transaction.atomic
def set_skills(agent: User, *, by: User | None, categories: list[int]) -> None:
    """Make ``categories`` (ids) the agent's exact skill list."""
    permissions.require_for_agent(by, "manage_availability", agent)
    wanted = set(categories)
    Skill.objects.filter(agent=agent).exclude(category_id__in=wanted).delete()
    have = set(Skill.objects.filter(agent=agent).values_list("category_id", flat=True))
    Skill.objects.bulk_create([Skill(agent=agent, category_id=c) for c in wanted - have])


def requeue_open_tickets(agent: User, *, by: User | None) -> int:
    """Put every open ticket of ``agent`` back in its group's queue (managers and admins).

    Each ticket loses its assignee (``assigned`` goes back to ``new``) and is offered to its
    group's strategy again, in its own transaction, so one failure does not undo the others.
    The agent is notified once. Returns how many tickets were requeued.
    """
    permissions.require_for_agent(by, "requeue", agent)
    ids = list(Ticket.objects.filter(assignee=agent, status__in=OPEN).values_list("pk", flat=True))
    done = 0
    for ticket_id in ids:
        with transaction.atomic():
            ticket = Ticket.objects.select_related("group").filter(pk=ticket_id, assignee=agent).first()
            if ticket is None or not ticket.is_open:
                continue
            ticket = ticket_services.update_ticket(ticket, by=by, expected_version=None, changes={"assignee": None})
            assign_in_group(ticket, by=by, exclude=agent)
            done += 1
    if done:
        stamp = timezone.now().isoformat()
        notify([agent], kind=Notification.Kind.REQUEUED, key=f"requeued:{agent.pk}:{stamp}", count=done)
    return done
