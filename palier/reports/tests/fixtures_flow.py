"""Builders for the ticket-flow figures: tickets, events, replies and deflections written straight
to the tables with explicit times, so a test knows every timestamp and can count by hand."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from palier.kb.models import Article, Deflection
from palier.people.models import SupportGroup, User
from palier.tickets.models import Category, Comment, Ticket, TicketEvent

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")
S = Ticket.Status
E = TicketEvent.Kind

_numbers = itertools.count(70_000)


def paris(day: int, hour: int, minute: int = 0, *, month: int = 5) -> datetime:
    """A moment of 2026 on Paris's clock (UTC+2 in April and May)."""
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def ticket(
    requester: User,
    *,
    created: datetime,
    group: SupportGroup | None,
    assignee: User | None = None,
    status: str = S.NEW,
    channel: str = Ticket.Channel.WEB,
    category: Category | None = None,
) -> Ticket:
    """A ticket and its ``created`` event (naming the assignee it opened with)."""
    row = Ticket.objects.create(
        kind=Ticket.Kind.INCIDENT,
        number=next(_numbers),
        subject="Poste bloqué",
        requester=requester,
        organisation_id=requester.organisation_id,
        category=category,
        status=status,
        group=group,
        assignee=assignee,
        channel=channel,
        created_at=created,
        updated_at=created,
    )
    event(
        row,
        E.CREATED,
        at=created,
        status=status,
        channel=channel,
        group=group.name if group else None,
        assignee=assignee.display_name if assignee else None,
    )
    return row


def event(row: Ticket, kind: str, *, at: datetime, by: User | None = None, **data: Any) -> TicketEvent:
    return TicketEvent.objects.create(ticket=row, kind=kind, actor=by, data=data, created_at=at)


def assign(row: Ticket, user: User | None, *, at: datetime) -> None:
    """An assignee change as ``update_ticket`` records it (display names, not ids)."""
    old = row.assignee.display_name if row.assignee else None
    event(row, E.CHANGED, at=at, field="assignee", old=old, new=user.display_name if user else None)
    row.assignee = user
    Ticket.objects.filter(pk=row.pk).update(assignee=user)


def escalate(row: Ticket, group: SupportGroup, *, at: datetime) -> None:
    """An escalation step: the move (assignee released) and its ESCALATED event."""
    old = row.group
    event(row, E.CHANGED, at=at, field="group", old=old.name if old else None, new=group.name)
    assign(row, None, at=at)
    event(row, E.ESCALATED, at=at, from_group=old.name if old else None, to_group=group.name, to_level=group.level)
    row.group = group
    Ticket.objects.filter(pk=row.pk).update(group=group)


def resolve(row: Ticket, *, at: datetime, old: str = S.IN_PROGRESS) -> None:
    """Resolved at ``at`` at the level of its group then."""
    event(row, E.STATUS, at=at, old=old, new=S.RESOLVED)
    level = row.group.level if row.group else None
    Ticket.objects.filter(pk=row.pk).update(status=S.RESOLVED, resolved_at=at, resolved_level=level, updated_at=at)
    row.status, row.resolved_at, row.resolved_level = S.RESOLVED, at, level


def reopen(row: Ticket, *, at: datetime) -> None:
    event(row, E.STATUS, at=at, old=S.RESOLVED, new=S.IN_PROGRESS)
    Ticket.objects.filter(pk=row.pk).update(status=S.IN_PROGRESS, resolved_at=None, resolved_level=None)
    row.status, row.resolved_at, row.resolved_level = S.IN_PROGRESS, None, None


def cancel(row: Ticket, *, at: datetime) -> None:
    event(row, E.STATUS, at=at, old=row.status, new=S.CANCELLED)
    Ticket.objects.filter(pk=row.pk).update(status=S.CANCELLED, closed_at=at, updated_at=at)


def reply(row: Ticket, author: User, *, at: datetime, internal: bool = False) -> None:
    comment = Comment.objects.create(ticket=row, author=author, body="…", is_internal=internal, created_at=at)
    event(row, E.NOTED if internal else E.COMMENTED, at=at, by=author, comment=comment.pk)


def deflection(user: User, *, at: datetime) -> Deflection:
    article = Article.objects.create(created_by=user, status=Article.Status.PUBLISHED)
    return Deflection.objects.create(user=user, article=article, query="imprimante", created_at=at)


@dataclass
class World:
    """The hand-counted week: Monday 4 to Sunday 10 May 2026 (see ``build_world``)."""

    triage: SupportGroup
    l2: SupportGroup
    vendor: SupportGroup
    printers: Category
    network: Category
    tickets: dict[str, Ticket]


def build_world(*, requester: User, lea: User, marc: User, triage: SupportGroup, l2: SupportGroup) -> World:
    """Thirteen tickets around the week of 4 May 2026 (Paris times; CEST is UTC+2, Montréal's
    EDT UTC-4). The counts each test expects are derived by hand in ``test_flow.py``."""
    vendor = SupportGroup.objects.create(name="Printer vendor", level=4, is_vendor=True)
    printers = Category.objects.create(slug="report-printers", name_en="Printers", name_fr="Imprimantes")
    network = Category.objects.create(slug="report-network", name_en="Network", name_fr="Réseau")
    t: dict[str, Ticket] = {}
    # t0: 4 May 03:00 Paris = 3 May 21:00 Montréal; open, unassigned, monitoring
    t["t0"] = ticket(requester, created=paris(4, 3), group=triage, channel="monitoring", category=printers)
    # t1: first contact: one public reply, resolved two hours after opening
    t["t1"] = ticket(requester, created=paris(4, 9), group=triage, assignee=lea, category=printers, status=S.ASSIGNED)
    reply(t["t1"], lea, at=paris(4, 10))
    reply(t["t1"], lea, at=paris(4, 10, 30), internal=True)  # internal notes do not count
    resolve(t["t1"], at=paris(4, 11))
    # t2: assigned one hour after opening, two public replies (not first contact)
    t["t2"] = ticket(requester, created=paris(4, 10), group=triage, channel="email", category=printers)
    assign(t["t2"], lea, at=paris(4, 11))
    reply(t["t2"], lea, at=paris(4, 12))
    reply(t["t2"], lea, at=paris(5, 9))
    resolve(t["t2"], at=paris(5, 10))
    # t3: resolved, reopened by the requester, resolved again
    t["t3"] = ticket(requester, created=paris(5, 8), group=triage, assignee=lea, channel="phone", category=printers)
    resolve(t["t3"], at=paris(5, 9))
    reopen(t["t3"], at=paris(6, 9))
    resolve(t["t3"], at=paris(7, 9))
    # t4: given to Léa, escalated to L2 (moved between groups), resolved there by Marc
    t["t4"] = ticket(requester, created=paris(5, 12), group=triage, category=network)
    assign(t["t4"], lea, at=paris(5, 12, 30))
    escalate(t["t4"], l2, at=paris(5, 14))
    assign(t["t4"], marc, at=paris(5, 15))
    resolve(t["t4"], at=paris(6, 15))
    # t5: cancelled by the requester the next morning
    t["t5"] = ticket(requester, created=paris(6, 9), group=triage, channel="email", category=network)
    cancel(t["t5"], at=paris(7, 10))
    # t6: opened in the previous week, resolved in this one (straddles the boundary)
    t["t6"] = ticket(requester, created=paris(1, 10), group=triage, assignee=lea, category=printers)
    resolve(t["t6"], at=paris(4, 8))
    # t7: 11 May 01:00 Paris = 10 May 19:00 Montréal; open, unassigned
    t["t7"] = ticket(requester, created=paris(11, 1), group=triage)
    # t8: escalated from L2 to the vendor, resolved at level 4
    t["t8"] = ticket(requester, created=paris(6, 10), group=l2, category=network)
    escalate(t["t8"], vendor, at=paris(6, 11))
    resolve(t["t8"], at=paris(8, 10))
    # t9: waiting for the vendor, Marc's
    t["t9"] = ticket(requester, created=paris(7, 10), group=l2, assignee=marc, channel="email", category=printers)
    event(t["t9"], E.STATUS, at=paris(7, 11), old=S.NEW, new=S.PENDING_VENDOR)
    Ticket.objects.filter(pk=t["t9"].pk).update(status=S.PENDING_VENDOR)
    # t10..t12: the previous week
    t["t10"] = ticket(
        requester, created=paris(28, 10, month=4), group=triage, assignee=lea, category=printers, status=S.IN_PROGRESS
    )
    t["t11"] = ticket(requester, created=paris(27, 10, month=4), group=triage, assignee=lea, category=printers)
    resolve(t["t11"], at=paris(29, 10, month=4))
    t["t12"] = ticket(requester, created=paris(30, 10, month=4), group=l2, assignee=marc, category=network)
    reply(t["t12"], marc, at=paris(1, 9))
    reply(t["t12"], marc, at=paris(1, 10))
    resolve(t["t12"], at=paris(2, 10))
    # knowledge-base deflections: 4 May 01:00 Paris (3 May in Montréal), 4 May noon, 10 May 23:30
    for moment in (paris(4, 1), paris(4, 12), paris(10, 23, 30)):
        deflection(requester, at=moment)
    return World(triage=triage, l2=l2, vendor=vendor, printers=printers, network=network, tickets=t)
