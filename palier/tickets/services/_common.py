"""Shared helpers of the ticket services: validation, numbering, locking, versioning."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound, StaleVersion
from palier.people.models import SupportGroup, User
from palier.tickets.models import (
    PriorityRule,
    Tag,
    Ticket,
    TicketCounter,
    TicketEvent,
)
from palier.tickets.rules import DEFAULT_MATRIX

S = Ticket.Status
E = TicketEvent.Kind
MAX_SUBJECT = 250
MAX_BODY = 100_000
MAX_TAGS = 20


# --- helpers ----------------------------------------------------------------------------------


def priority_for(impact: str, urgency: str) -> int:
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list("priority", flat=True).first()
    return int(rule) if rule is not None else DEFAULT_MATRIX[(impact, urgency)]


def priority_matrix() -> dict[tuple[str, str], int]:
    """The whole impact × urgency matrix in one query (the ITIL default where a cell is missing)."""
    matrix = dict(DEFAULT_MATRIX)
    for impact, urgency, priority in PriorityRule.objects.values_list("impact", "urgency", "priority"):
        matrix[(impact, urgency)] = int(priority)
    return matrix


def next_number(kind: str) -> int:
    """A number unique per kind, also under concurrent creation."""
    return next_numbers(kind, 1)[0]


def next_numbers(kind: str, count: int) -> list[int]:
    """``count`` numbers unique per kind, ascending, also under concurrent creation.

    PostgreSQL uses one sequence per kind (no lock held until commit; a rolled-back creation
    leaves a gap). SQLite serialises writers, so a counter row is enough there.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if count == 1:
                cursor.execute("SELECT nextval(%s)", [f"tickets_number_{kind}_seq"])
            else:
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [f"tickets_number_{kind}_seq", count])
            return sorted(int(row[0]) for row in cursor.fetchall())
    sql = "UPDATE tickets_ticketcounter SET last = last + %s WHERE kind = %s RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, kind])
        row = cursor.fetchone()
        if row is None:  # first ticket of this kind
            TicketCounter.objects.get_or_create(kind=kind, defaults={"last": 0})
            cursor.execute(sql, [count, kind])
            row = cursor.fetchone()
    last = int(row[0])
    return list(range(last - count + 1, last + 1))


def _clean_text(value: str, *, field: str, maximum: int, required: bool) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > maximum:
        raise ValidationError({field: _("At most %(n)d characters.") % {"n": maximum}})
    return value


def _check_choice(value: str, choices: Iterable[str], field: str) -> None:
    if value not in choices:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


def _clean_tags(names: Iterable[str]) -> list[str]:
    cleaned = sorted({n.strip().lower()[:50] for n in names if n and n.strip()})
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("At most %(n)d tags.") % {"n": MAX_TAGS}})
    return cleaned


def _check_assignee(assignee: User | None, group: SupportGroup | None) -> None:
    if assignee is None:
        return
    if not assignee.is_agent or not assignee.is_active:
        raise ValidationError({"assignee": _("Tickets can only be assigned to active agents.")})
    if group is not None and not group.members.filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": _("The assignee is not a member of the ticket's group.")})


def _lock(ticket: Ticket, expected_version: int | None) -> Ticket:
    """Re-read the ticket under a row lock and check the version the caller saw."""
    locked = Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    if locked is None:
        raise NotFound(_("Ticket not found."))
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            _("The ticket was changed by someone else (version %(now)d, you saw %(seen)d). Reload it and try again.")
            % {"now": locked.version, "seen": expected_version}
        )
    return locked


def _touch(ticket: Ticket, fields: list[str], now: datetime | None = None) -> None:
    ticket.updated_at = now or timezone.now()
    ticket.version += 1
    ticket.save(update_fields=[*fields, "updated_at", "version"])


def ensure_tags(names: Iterable[str]) -> dict[str, Tag]:
    """The ``Tag`` rows of ``names`` by name, creating the missing ones."""
    names = set(names)
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    if names - set(existing):
        Tag.objects.bulk_create([Tag(name=n) for n in names - set(existing)], ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    return existing


def _set_tags(ticket: Ticket, names: list[str]) -> None:
    ticket.tags.set(list(ensure_tags(names).values()))
