"""Recurring tickets: a ticket template opened on a cron schedule ("every Monday at 08:00").

The periodic job takes the due rows (``is_active`` and ``next_run_at <= now``, indexed) and claims
each slot with a conditional UPDATE (``WHERE next_run_at = <the slot it read>``), so two workers or
two schedulers never open the same slot twice; only the one whose UPDATE changed the row opens
the ticket, in the same transaction. Slots missed while nothing ran are not caught up: one ticket
is opened and the next slot is the first one after now.
"""

from __future__ import annotations

import calendar as std_calendar
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import ExpressionDescriptor, FormatException, Options  # type: ignore[import-untyped]
from croniter import croniter  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from palier.automation import permissions
from palier.automation.models import RecurringTicket
from palier.lib.errors import DomainError
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Level, Ticket

log = logging.getLogger(__name__)

BATCH = 200
FIELDS = (
    "name", "is_active", "subject", "description", "kind", "category", "group", "impact", "urgency",
    "requester", "schedule", "time_zone",
)  # fmt: skip


# --- schedules ------------------------------------------------------------------------------------------


def next_slot(schedule: str, time_zone: str, after: datetime) -> datetime:
    """The first slot strictly after ``after``, in UTC (the schedule reads in ``time_zone``)."""
    zone = ZoneInfo(time_zone)
    local = after.astimezone(zone)
    following: datetime = croniter(schedule, local).get_next(datetime)
    return following.astimezone(ZoneInfo("UTC"))


def describe_schedule(schedule: str, *, language: str | None = None) -> str:
    """The schedule in words, in French or English ("À 08:00, uniquement le lundi")."""
    options = Options()
    french = (language or get_language() or "fr").startswith("fr")
    options.locale_code = "fr_FR" if french else "en_US"
    options.use_24hour_time_format = True
    try:
        text = str(ExpressionDescriptor(schedule, options).get_description())
    except (FormatException, ValueError, KeyError, IndexError):
        return schedule
    # the library names days and months with the process locale (English): use Django's catalog
    with translation.override("fr" if french else "en"):
        for index, name in enumerate(std_calendar.day_name):
            text = text.replace(name, str(WEEKDAYS[index]).lower() if french else str(WEEKDAYS[index]))
        for index, name in enumerate(std_calendar.month_name[1:], start=1):
            text = text.replace(name, str(MONTHS[index]).lower() if french else str(MONTHS[index]))
    return text


def _clean_schedule(schedule: str, time_zone: str) -> tuple[str, str]:
    schedule = " ".join((schedule or "").split())
    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        raise ValidationError(
            {"schedule": _("Enter five fields: minute hour day month weekday, e.g. “0 8 * * 1” for Mondays at 08:00.")}
        )
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
    return schedule, time_zone


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    for name, maximum in (("name", 120), ("subject", 250)):
        cleaned[name] = (cleaned.get(name) or "").strip()
        if not cleaned[name]:
            raise ValidationError({name: _("This field is required.")})
        if len(cleaned[name]) > maximum:
            raise ValidationError({name: _("At most %(n)d characters.") % {"n": maximum}})
    cleaned["description"] = (cleaned.get("description") or "").strip()
    for name, choices in (("kind", Ticket.Kind.values), ("impact", Level.values), ("urgency", Level.values)):
        if cleaned.get(name) not in choices:
            raise ValidationError({name: _("Choose a value from the list.")})
    requester = cleaned.get("requester")
    if requester is None or not requester.is_active:
        raise ValidationError({"requester": _("Choose an active user as the requester.")})
    category = cleaned.get("category")
    if category is not None and not category.is_active:
        raise ValidationError({"category": _("This category is no longer in use.")})
    cleaned["schedule"], cleaned["time_zone"] = _clean_schedule(
        cleaned.get("schedule", ""), cleaned.get("time_zone", "")
    )
    return cleaned


# --- writes ---------------------------------------------------------------------------------------------


@transaction.atomic
def create_recurring(*, by: User | None, now: datetime | None = None, **fields: Any) -> RecurringTicket:
    permissions.require(by, "manage_recurring")
    cleaned = _clean({name: fields.get(name) for name in FIELDS if name in fields} | _defaults(fields))
    now = now or timezone.now()
    row = RecurringTicket(created_by=by, created_at=now, updated_at=now, **cleaned)
    row.next_run_at = next_slot(row.schedule, row.time_zone, now) if row.is_active else None
    row.save()
    return row


def _defaults(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        name: fields.get(name, default)
        for name, default in (
            ("kind", Ticket.Kind.REQUEST), ("impact", Level.LOW), ("urgency", Level.LOW),
            ("time_zone", "Europe/Paris"), ("is_active", True),
        )
    }  # fmt: skip


@transaction.atomic
def update_recurring(
    row: RecurringTicket, *, by: User | None, now: datetime | None = None, **fields: Any
) -> RecurringTicket:
    """Change the template or the schedule; a new schedule starts from now."""
    permissions.require(by, "manage_recurring")
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    row = RecurringTicket.objects.select_for_update().get(pk=row.pk)
    current = {name: getattr(row, name) for name in FIELDS}
    cleaned = _clean({**current, **fields})
    now = now or timezone.now()
    rescheduled = (cleaned["schedule"], cleaned["time_zone"], cleaned["is_active"]) != (
        row.schedule, row.time_zone, row.is_active,
    )  # fmt: skip
    for name, value in cleaned.items():
        setattr(row, name, value)
    if rescheduled:
        row.next_run_at = next_slot(row.schedule, row.time_zone, now) if row.is_active else None
    row.updated_at = now
    row.save()
    return row


def set_recurring_active(
    row: RecurringTicket, *, by: User | None, active: bool, now: datetime | None = None
) -> RecurringTicket:
    """Pause (no more tickets) or resume (from the next slot after now)."""
    return update_recurring(row, by=by, now=now, is_active=active)


def _open(row: RecurringTicket) -> Ticket:
    return ticket_services.open_ticket(
        requester=row.requester,
        subject=row.subject,
        description=row.description,
        kind=row.kind,
        category=row.category,
        impact=row.impact,
        urgency=row.urgency,
        group=row.group,
        by=None,
    )


def _run_one(row: RecurringTicket, now: datetime) -> bool:
    """Claim the slot the row was read with and open its ticket. False when another worker won."""
    slot = row.next_run_at
    following = next_slot(row.schedule, row.time_zone, max(now, slot) if slot else now)
    with transaction.atomic():
        claimed = RecurringTicket.objects.filter(pk=row.pk, is_active=True, next_run_at=slot).update(
            next_run_at=following, last_run_at=now
        )
        if not claimed:
            return False
        try:
            with transaction.atomic():
                ticket = _open(row)
            RecurringTicket.objects.filter(pk=row.pk).update(last_ticket=ticket, problem="")
        except (ValidationError, DomainError) as exc:
            problem = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
            log.warning("recurring ticket %s could not open a ticket: %s", row.pk, problem)
            RecurringTicket.objects.filter(pk=row.pk).update(problem=problem[:300])
    return True


def run_due_recurring(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Open the tickets whose slot has come, once per slot. Returns how many slots were taken."""
    now = now or timezone.now()
    rows = list(
        RecurringTicket.objects.filter(is_active=True, next_run_at__lte=now)
        .select_related("requester", "category", "group")
        .order_by("next_run_at", "pk")[:batch]
    )
    return sum(1 for row in rows if _run_one(row, now))
