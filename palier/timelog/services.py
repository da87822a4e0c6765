"""Writes of time tracking: log, edit and delete time entries; set cost rates.

Every change of an entry appends an internal ticket event (``time_logged`` or ``time_changed``)
in the same transaction. Logging time does not change the ticket itself, so its ``version`` stays:
an agent logging work never makes a colleague's reply stale. A day's total per person is checked
under a lock on that person's row, so two entries logged at the same moment cannot pass 24 hours.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.people.models import SupportGroup, User
from palier.tickets import history
from palier.tickets.models import Comment, Ticket, TicketEvent
from palier.timelog import permissions
from palier.timelog.models import MAX_MINUTES, CostRate, TimeEntry

E = TicketEvent.Kind
MAX_NOTE = 500
MAX_RATE = Decimal("99999999.99")


def _check_minutes(minutes: object) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError({"minutes": _("Enter the minutes as a whole number.")})
    if minutes < 1:
        raise ValidationError({"minutes": _("Enter at least one minute.")})
    if minutes > MAX_MINUTES:
        raise ValidationError({"minutes": _("One entry covers at most %(n)d minutes (24 hours).") % {"n": MAX_MINUTES}})
    return minutes


def _check_day_total(author_id: int, work_date: date, minutes: int, *, without: int = 0) -> None:
    """Refuse more than 24 hours logged by one person on one day (``without``: the entry being edited)."""
    User.objects.select_for_update().filter(pk=author_id).first()  # serialise this person's entries
    logged = TimeEntry.objects.filter(author_id=author_id, work_date=work_date).exclude(pk=without)
    total = int(logged.aggregate(total=Sum("minutes"))["total"] or 0)
    if total + minutes > MAX_MINUTES:
        raise ValidationError(
            {
                "minutes": _(
                    "%(day)s would then have more than 24 hours of logged work (%(logged)d min already logged)."
                )
                % {"day": work_date.isoformat(), "logged": total}
            }
        )


def _check_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": _("At most %(n)d characters.") % {"n": MAX_NOTE}})
    return note


@transaction.atomic
def log_time(
    ticket: Ticket,
    *,
    by: User,
    minutes: int,
    work_date: date | None = None,
    note: str = "",
    comment: Comment | None = None,
    source: str = TimeEntry.Source.MANUAL,
) -> TimeEntry:
    """Log ``minutes`` of work by ``by`` on ``ticket`` (default: today in the desk's time zone).
    Refuses (nothing written) someone who may not update the ticket, minutes outside 1-1440, a day
    past 24 hours in total, a day in the future, a comment of another ticket."""
    permissions.require_log(by, ticket)
    minutes = _check_minutes(minutes)
    note = _check_note(note)
    today = timezone.localdate()
    work_date = work_date or today
    if work_date > today:
        raise ValidationError({"work_date": _("Work cannot be logged on a day that has not come yet.")})
    if source not in TimeEntry.Source.values:
        raise ValidationError({"source": _("Unknown source “%(value)s”.") % {"value": str(source)[:40]}})
    if comment is not None and comment.ticket_id != ticket.pk:
        raise ValidationError({"comment": _("This message belongs to another ticket.")})
    _check_day_total(by.pk, work_date, minutes)
    entry = TimeEntry.objects.create(
        ticket=ticket, author=by, minutes=minutes, work_date=work_date, note=note, comment=comment, source=source
    )
    history.record(
        ticket, E.TIME_LOGGED, by=by, internal=True, entry=entry.pk, minutes=minutes, work_date=work_date.isoformat()
    )
    return entry


def _locked(entry: TimeEntry) -> TimeEntry:
    found = TimeEntry.objects.select_for_update().select_related("ticket").filter(pk=entry.pk).first()
    if found is None:
        raise ValidationError(_("This time entry no longer exists."))
    return found


@transaction.atomic
def edit_time_entry(entry: TimeEntry, *, by: User, minutes: int, note: str) -> TimeEntry:
    """Change the minutes and note of an entry (its author within the edit window, or an admin)."""
    permissions.require_change(by, entry)
    minutes = _check_minutes(minutes)
    note = _check_note(note)
    entry = _locked(entry)
    permissions.require_change(by, entry)
    old = entry.minutes
    if minutes > old:
        _check_day_total(entry.author_id, entry.work_date, minutes, without=entry.pk)
    entry.minutes, entry.note, entry.updated_at = minutes, note, timezone.now()
    entry.save(update_fields=["minutes", "note", "updated_at"])
    history.record(
        entry.ticket,
        E.TIME_CHANGED,
        by=by,
        internal=True,
        entry=entry.pk,
        old_minutes=old,
        minutes=minutes,
        work_date=entry.work_date.isoformat(),
    )
    return entry


@transaction.atomic
def delete_time_entry(entry: TimeEntry, *, by: User) -> None:
    """Remove an entry (its author within the edit window, or an admin); the history keeps it."""
    permissions.require_change(by, entry)
    entry = _locked(entry)
    history.record(
        entry.ticket,
        E.TIME_CHANGED,
        by=by,
        internal=True,
        entry=entry.pk,
        old_minutes=entry.minutes,
        minutes=0,
        deleted=True,
        work_date=entry.work_date.isoformat(),
    )
    audit.record("deleted", actor=by, target=entry, changes={"minutes": [entry.minutes, None]})
    entry.delete()


def _money(value: object, field: str, errors: dict[str, str]) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except (InvalidOperation, ValueError):
        errors[field] = _("Enter an amount.")
        return Decimal(0)
    if not amount.is_finite() or amount < 0 or amount > MAX_RATE:
        errors[field] = _("Enter an amount between 0 and %(max)s.") % {"max": MAX_RATE}
        return Decimal(0)
    return amount.quantize(Decimal("0.01"))


def _check_target(level: int | None, agent: User | None, group: SupportGroup | None, errors: dict[str, str]) -> None:
    targets = [t for t in (level, agent, group) if t is not None]
    if len(targets) != 1:
        errors["target"] = _("Choose one level, one agent or one vendor group.")
    elif level is not None and level not in SupportGroup.Level.values:
        errors["level"] = _("Choose a level from 1 to 5.")
    elif agent is not None and not agent.is_agent:
        errors["agent"] = _("Only agents have a cost rate.")
    elif group is not None and not group.is_vendor:
        errors["group"] = _("Only a vendor group has its own cost; set the rate of its level instead.")


@transaction.atomic
def set_cost_rate(
    *,
    by: User | None,
    valid_from: date,
    hourly_rate: Decimal | str | int,
    per_escalation: Decimal | str | int = 0,
    level: int | None = None,
    agent: User | None = None,
    group: SupportGroup | None = None,
) -> CostRate:
    """The price of an hour (and, for a vendor group, of an escalation) from ``valid_from`` on, for
    exactly one level, agent or vendor group. Earlier rates stay as history; a second rate for the
    same target and day replaces that day's."""
    permissions.require_manage_rates(by)
    errors: dict[str, str] = {}
    _check_target(level, agent, group, errors)
    hourly = _money(hourly_rate, "hourly_rate", errors)
    escalation = _money(per_escalation, "per_escalation", errors)
    if escalation and group is None:
        errors["per_escalation"] = _("A cost per escalation applies to a vendor group only.")
    if errors:
        raise ValidationError(errors)
    target = {"level": level} if level is not None else {"agent": agent} if agent is not None else {"group": group}
    rate, _created = CostRate.objects.update_or_create(
        **target,
        valid_from=valid_from,
        defaults={"hourly_rate": hourly, "per_escalation": escalation, "created_by": by, "created_at": timezone.now()},
    )
    return rate
