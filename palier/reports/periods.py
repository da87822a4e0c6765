"""Which dates a report counts: presets and custom ranges, in the viewer's time zone.

A period is half-open, ``[start, end)``, made of whole days in ``zone`` (a manager in Paris and
one in Montréal see the same tickets, each in their own days). Its buckets are days, or weeks
(starting on Monday) once the period is longer than 62 days. ``previous()`` is the period of the
same length just before, for the comparison every KPI shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PRESETS = ("today", "7d", "30d", "this_month", "last_month", "quarter", "year", "custom")
MAX_DAYS = 2 * 366  # longer ranges are refused: a report is not a full export
WEEKLY_AFTER_DAYS = 62


@dataclass(frozen=True)
class Period:
    first: date  # first day counted
    last: date  # last day counted (inclusive)
    zone: ZoneInfo
    preset: str = "custom"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def bucket(self) -> str:
        """ "day" or "week"."""
        return "week" if self.days > WEEKLY_AFTER_DAYS else "day"

    def previous(self) -> Period:
        last = self.first - timedelta(days=1)
        return Period(first=last - timedelta(days=self.days - 1), last=last, zone=self.zone, preset="custom")

    def buckets(self) -> Iterator[date]:
        """The first day of each bucket, in order."""
        step = timedelta(days=7 if self.bucket == "week" else 1)
        day = self.first - timedelta(days=self.first.weekday()) if self.bucket == "week" else self.first
        while day <= self.last:
            yield day
            day += step

    def bucket_of(self, moment: datetime) -> date:
        """The bucket a moment falls in (its local day, or the Monday of its week)."""
        day = moment.astimezone(self.zone).date()
        return day - timedelta(days=day.weekday()) if self.bucket == "week" else day


def period_for(
    preset: str, *, zone: ZoneInfo, today: date, first: date | None = None, last: date | None = None
) -> Period:
    """The period a preset names, seen from ``today`` in ``zone``; ``custom`` needs ``first`` and
    ``last``. Raises ``ValidationError`` (per field) on an unknown preset, a missing, inverted or
    too long custom range."""
    if preset not in PRESETS:
        raise ValidationError({"period": _("Unknown period “%(value)s”.") % {"value": preset}})
    if preset == "custom":
        return _custom(first, last, zone)
    if preset == "today":
        return Period(today, today, zone, preset)
    if preset in ("7d", "30d"):
        return Period(today - timedelta(days=int(preset[:-1]) - 1), today, zone, preset)
    if preset == "this_month":
        return Period(today.replace(day=1), today, zone, preset)
    if preset == "last_month":
        last_day = today.replace(day=1) - timedelta(days=1)
        return Period(last_day.replace(day=1), last_day, zone, preset)
    if preset == "quarter":
        return Period(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today, zone, preset)
    return Period(date(today.year, 1, 1), today, zone, preset)  # "year"


def _custom(first: date | None, last: date | None, zone: ZoneInfo) -> Period:
    errors: dict[str, str] = {}
    if first is None:
        errors["since"] = _("Give the first day of the period.")
    if last is None:
        errors["until"] = _("Give the last day of the period.")
    if first is not None and last is not None:
        if last < first:
            errors["until"] = _("The last day comes before the first day.")
        elif (last - first).days + 1 > MAX_DAYS:
            errors["until"] = _("A period covers at most %(days)d days.") % {"days": MAX_DAYS}
    if errors or first is None or last is None:
        raise ValidationError(errors)
    return Period(first, last, zone, "custom")
