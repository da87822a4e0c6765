"""The sweep: fire each due warning and breach exactly once, and run the policy's actions.

Driven by stored instants, never by timers: a clock whose ``next_event_at`` has passed is claimed
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the work), its warning and
breach are appended to the ticket's history as internal ``TicketEvent`` rows (kinds
``sla_warning`` and ``sla_breach``, read by the event stream's consumers) whose unique ``key``
``sla:<clock>:<warning|breach>:<generation>`` is the claim: an insert that meets an existing key
is a no-op, and the sweep acts only on the rows it inserted. Then the clock's ``next_event_at``
moves on (to the due time after a warning, NULL after a breach). A restart, a second worker or a
clock jump can therefore neither fire twice nor skip: a jump forward fires what has passed
(warning and breach together), a jump back finds nothing due.

One batch costs a constant number of queries, whatever its size (escalation and priority
actions excepted: those go through the ticket rules, ticket by ticket).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError
from palier.notifications.models import Notification
from palier.people.models import Membership, SupportGroup, User
from palier.sla.models import Clock, SlaEvent, SlaPolicy
from palier.sla.services import clocks as c
from palier.tickets import history
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket, TicketEvent

logger = logging.getLogger("palier.sla")

EV = SlaEvent.Kind
A = SlaPolicy.Action
WARNING, BREACH = "warning", "breach"  # what fires, as named in event keys and notification keys
# the ticket event each firing appends
EVENT_KINDS: dict[str, str] = {WARNING: TicketEvent.Kind.SLA_WARNING, BREACH: TicketEvent.Kind.SLA_BREACH}
# what internal clocks (group and vendor targets) do, as they have no policy of their own
INTERNAL_ACTIONS: dict[str, list[dict[str, Any]]] = {WARNING: [], BREACH: [{"action": A.NOTIFY_MANAGER}]}


def sweep(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Process one batch of due clocks. Idempotent; returns counts (``selected`` 0 = nothing due)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = _claim(now, batch)
        if not rows:
            return {"selected": 0, "warnings": 0, "breaches": 0, "notifications": 0, "actions": 0}
        fired = _fire(rows, now)
        _advance(rows, now)
        notified, followups = _act(rows, fired, now)
        actions = _follow_up(followups, now)
    return {
        "selected": len(rows),
        "warnings": sum(1 for _clock, kind in fired if kind == WARNING),
        "breaches": sum(1 for _clock, kind in fired if kind == BREACH),
        "notifications": notified,
        "actions": actions,
    }


def sweep_all(*, now: datetime | None = None, batch: int = 500, max_batches: int = 10_000) -> dict[str, int]:
    """Sweep batches until nothing is due (what the periodic task runs)."""
    totals: dict[str, int] = defaultdict(int)
    for _i in range(max_batches):
        counts = sweep(now=now, batch=batch)
        for key, value in counts.items():
            totals[key] += value
        if counts["selected"] < batch:
            break
    return dict(totals)


def settle_without_actions(*, now: datetime | None = None, batch: int = 2000) -> int:
    """Record the warnings and breaches already due, without acting on them (no notification, no
    escalation): for tickets loaded with past dates, such as the demo's, whose first sweep would
    otherwise alert everyone about months-old breaches. Returns how many clocks were settled."""
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            rows = _claim(now, batch)
            if rows:
                _fire(rows, now)
                _advance(rows, now)
        total += len(rows)
        if len(rows) < batch:
            return total


def _claim(now: datetime, batch: int) -> list[Clock]:
    qs = Clock.objects.filter(next_event_at__lte=now).order_by("next_event_at")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    fields = ("id", "ticket_id", "kind", "policy_id", "group_id", "target_minutes", "warn_percent", "paused_minutes")
    return list(
        qs.only(
            *fields,
            "due_at",
            "warn_at",
            "next_event_at",
            "generation",
            "warned_at",
            "breached_at",
            "paused_at",
            "stopped_at",
        )[:batch]
    )


def fire_key(clock_id: int, kind: str, generation: int) -> str:
    """The unique key of the ticket event of one warning or breach of one clock generation."""
    return f"sla:{clock_id}:{kind}:{generation}"


def _fire(rows: list[Clock], now: datetime) -> list[tuple[Clock, str]]:
    """Append the warning and breach events that have become due; return the ones this call created."""
    wanted: list[tuple[Clock, str]] = []
    for row in rows:
        if row.warned_at is None and row.warn_at is not None and row.warn_at <= now:
            wanted.append((row, WARNING))
        if row.breached_at is None and row.due_at is not None and row.due_at <= now:
            wanted.append((row, BREACH))
    events = [
        TicketEvent(
            ticket_id=row.ticket_id,
            kind=EVENT_KINDS[kind],
            is_internal=True,
            data=_fire_data(row, kind, now),
            key=fire_key(row.pk, kind, row.generation),
        )
        for row, kind in wanted
    ]
    inserted = history.record_once(events, at=now)
    return [(row, kind) for row, kind in wanted if fire_key(row.pk, kind, row.generation) in inserted]


def _fire_data(row: Clock, kind: str, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {
        "clock": row.pk,
        "generation": row.generation,
        "target": row.target_minutes,
        "due": c.iso(row.due_at),
        "at": now.isoformat(),
    }
    if kind == WARNING:
        data["percent"] = row.warn_percent
        data["left"] = round(row.target_minutes * (100 - row.warn_percent) / 100, 1)
    else:
        data["left"] = 0
        if row.paused_minutes:
            data["excluded"] = row.paused_minutes
    return data


def _advance(rows: list[Clock], now: datetime) -> None:
    """Mark what fired and move ``next_event_at`` on, in a few UPDATEs grouped by outcome."""
    groups: dict[tuple[bool, bool, str], list[int]] = defaultdict(list)
    for row in rows:
        warn = row.warned_at is None and row.warn_at is not None and row.warn_at <= now
        breach = row.breached_at is None and row.due_at is not None and row.due_at <= now
        if warn:
            row.warned_at = now
        if breach:
            row.breached_at = now
        upcoming = c.next_event(row)
        nxt = "none" if upcoming is None else ("due" if upcoming == row.due_at else "warn")
        row.next_event_at = upcoming
        groups[(warn, breach, nxt)].append(row.pk)
    for (warn, breach, nxt), ids in groups.items():
        values: dict[str, Any] = {"next_event_at": {"none": Value(None), "due": F("due_at"), "warn": F("warn_at")}[nxt]}
        if warn:
            values["warned_at"] = now
        if breach:
            values["breached_at"] = now
        Clock.objects.filter(pk__in=ids).update(**values)


def _recipients(
    actions: list[dict[str, Any]],
    assignee_id: int | None,
    group_id: int | None,
    managers: Mapping[int, int | None],
    members: dict[int, list[int]],
) -> set[int]:
    found: set[int] = set()
    for action in actions:
        name = action.get("action")
        if name == A.NOTIFY_ASSIGNEE and assignee_id:
            found.add(assignee_id)
        elif name == A.NOTIFY_GROUP and group_id:
            found.update(members.get(group_id, []))
        elif name == A.NOTIFY_MANAGER and group_id and managers.get(group_id):
            found.add(managers[group_id])  # type: ignore[arg-type]
    return found


def _act(
    rows: list[Clock], fired: list[tuple[Clock, str]], now: datetime
) -> tuple[int, list[tuple[int, str, dict[str, Any], str]]]:
    """Notify in bulk; return how many notifications and the heavier actions left to run per ticket."""
    if not fired:
        return 0, []
    policies = SlaPolicy.objects.only("id", "warning_actions", "breach_actions").in_bulk(
        {r.policy_id for r, _k in fired if r.policy_id}
    )
    tickets = {
        pk: (assignee_id, group_id, status)
        for pk, assignee_id, group_id, status in Ticket.objects.filter(
            pk__in={r.ticket_id for r, _k in fired}
        ).values_list("id", "assignee_id", "group_id", "status")
    }
    group_ids = {t[1] for t in tickets.values() if t[1]} | {r.group_id for r, _k in fired if r.group_id}
    managers = dict(SupportGroup.objects.filter(pk__in=group_ids).values_list("id", "manager_id"))
    members: dict[int, list[int]] = defaultdict(list)
    for member_group, user_id in Membership.objects.filter(group_id__in=group_ids).values_list("group_id", "user_id"):
        members[member_group].append(user_id)
    notes: list[tuple[int, Clock, str]] = []
    followups: list[tuple[int, str, dict[str, Any], str]] = []
    for row, kind in fired:
        if row.ticket_id not in tickets:
            continue
        assignee_id, ticket_group_id, status = tickets[row.ticket_id]
        policy = policies.get(row.policy_id) if row.policy_id else None
        group_id: int | None
        if row.kind in Clock.CUSTOMER_KINDS:
            actions = (policy.warning_actions if kind == WARNING else policy.breach_actions) if policy else []
            group_id = ticket_group_id
        else:
            actions, group_id = INTERNAL_ACTIONS[kind], row.group_id
        recipients = _recipients(actions, assignee_id, group_id, managers, members)
        notes.extend((user_id, row, kind) for user_id in recipients)
        if status in Ticket.OPEN_STATUSES:
            followups.extend(
                (row.ticket_id, kind, action, row.kind)
                for action in actions
                if action.get("action") in (A.RAISE_PRIORITY, A.ESCALATE_GROUP, A.ESCALATE_LEVEL)
            )
    return _notify(notes, now), followups


def _notify(notes: list[tuple[int, Clock, str]], now: datetime) -> int:
    """One notification per (recipient, clock, kind, generation), active recipients only."""
    active = set(User.objects.filter(pk__in={n[0] for n in notes}, is_active=True).values_list("pk", flat=True))
    notes = [note for note in notes if note[0] in active]
    if not notes:
        return 0
    if connection.vendor == "postgresql":
        params: dict[str, Any] = {
            "now": now,
            "users": [user_id for user_id, _row, _kind in notes],
            "clocks": [row.pk for _user, row, _kind in notes],
            "kinds": [kind for _user, _row, kind in notes],
        }
        with connection.cursor() as cursor:
            cursor.execute(_NOTIFY_SQL, params)
        return len(notes)
    tickets = Ticket.objects.only("id", "kind", "number", "subject").in_bulk({row.ticket_id for _u, row, _k in notes})
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                ticket_id=row.ticket_id,
                kind=Notification.Kind.SLA_WARNING if kind == WARNING else Notification.Kind.SLA_BREACH,
                key=f"sla:{row.pk}:{kind}:{row.generation}",
                data=_notification_data(tickets[row.ticket_id], row),
                created_at=now,
            )
            for user_id, row, kind in notes
        ],
        ignore_conflicts=True,
    )
    return len(notes)


def _notification_data(ticket: Ticket, row: Clock) -> dict[str, Any]:
    return {"reference": ticket.reference, "subject": ticket.subject, "clock": row.kind, "due": c.iso(row.due_at)}


# The same rows as _notification_data, built by PostgreSQL (see _FIRE_SQL for why).
_PREFIX_SQL = " ".join(f"WHEN '{kind}' THEN '{prefix}-'" for kind, prefix in Ticket.PREFIXES.items())
_NOTIFY_SQL = f"""
INSERT INTO notifications_notification (recipient_id, ticket_id, kind, data, key, created_at)
SELECT n.user_id, c.ticket_id, CASE WHEN n.kind = 'warning' THEN '{Notification.Kind.SLA_WARNING.value}'
                                    ELSE '{Notification.Kind.SLA_BREACH.value}' END,
       jsonb_build_object('reference', (CASE t.kind {_PREFIX_SQL} ELSE 'TKT-' END) || t.number,
                          'subject', t.subject, 'clock', c.kind, 'due', c.due_at),
       'sla:' || c.id || ':' || n.kind || ':' || c.generation, %(now)s::timestamptz
FROM unnest(%(users)s::bigint[], %(clocks)s::bigint[], %(kinds)s::text[]) AS n(user_id, clock_id, kind)
JOIN sla_clock c ON c.id = n.clock_id
JOIN tickets_ticket t ON t.id = c.ticket_id
ON CONFLICT DO NOTHING
"""  # noqa: S608  (constants of our own models, no user input)


def _follow_up(followups: list[tuple[int, str, dict[str, Any], str]], now: datetime) -> int:
    """Raise priorities and escalate, ticket by ticket, each in its own savepoint."""
    done = 0
    for ticket_id, kind, action, clock_kind in followups:
        try:
            with transaction.atomic():
                if action["action"] == A.RAISE_PRIORITY:
                    ticket_services.raise_priority(ticket_id, by=None, reason=f"sla-{kind}")
                else:
                    _escalate(ticket_id, action, kind=kind, clock_kind=clock_kind)
            done += 1
        except (ValidationError, DomainError, LookupError) as exc:  # refused by the rules: record it
            logger.warning("SLA action %s not applied on ticket %s: %s", action, ticket_id, exc)
            _problem(ticket_id, action, exc, now)
        except Exception as exc:  # one ticket's failed action must not block the others
            logger.exception("SLA action %s failed on ticket %s", action, ticket_id)
            _problem(ticket_id, action, exc, now)
    return done


def _problem(ticket_id: int, action: dict[str, Any], exc: Exception, now: datetime) -> None:
    detail = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    SlaEvent.objects.create(
        ticket_id=ticket_id,
        kind=EV.PROBLEM,
        created_at=now,
        data={"problem": "action", "action": action, "detail": detail[:500]},
    )


def _escalate(ticket_id: int, action: dict[str, Any], *, kind: str, clock_kind: str) -> None:
    from palier.routing.services import escalate  # type: ignore[attr-defined,unused-ignore]

    group = None
    if action["action"] == A.ESCALATE_GROUP:
        group = SupportGroup.objects.filter(pk=int(action.get("group") or 0)).first()
        if group is None:
            raise LookupError(f"escalation group {action.get('group')} no longer exists")
    ticket = Ticket.objects.select_related("group").get(pk=ticket_id)
    level = action.get("level")
    current = ticket.group.level if ticket.group is not None else 0
    if group is None and level is not None and current >= int(level):
        return  # already at (or above) the level the policy escalates to: nothing to do
    if group is not None and ticket.group_id == group.pk:
        return
    label = Clock.Kind(clock_kind).label
    reason = (
        _("SLA warning: the %(target)s target is close.")
        if kind == WARNING
        else _("SLA breach: the %(target)s target was missed.")
    ) % {"target": str(label).lower()}
    escalate(ticket, by=None, reason=reason, to_group=group, to_level=action.get("level"))
