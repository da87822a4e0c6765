"""Business calendars: validation, writes, and turning a row into a :class:`clock.Calendar`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib import businesstime as clock
from palier.lib.errors import Conflict
from palier.people.models import User
from palier.sla import permissions
from palier.sla.models import Calendar, CalendarHoliday

WEEKDAYS = range(7)
_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
# how many years of public holidays a built calendar knows around "now"
_YEARS_BACK, _YEARS_AHEAD = 1, 3

Hours = dict[str, list[list[str]]]


def weekday_name(day: int) -> str:
    names = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
    return names[day]


# --- validation ---------------------------------------------------------------------------------


def _parse_time(text: str, *, field: str, label: str) -> time:
    match = _HHMM.match(text.strip())
    if not match:
        raise ValidationError(
            {field: _("%(day)s: “%(value)s” is not a time like 09:00.") % {"day": label, "value": text}}
        )
    hour, minute = int(match[1]), int(match[2])
    if hour == 24:
        if minute:
            raise ValidationError({field: _("%(day)s: 24:%(m)02d does not exist.") % {"day": label, "m": minute}})
        return clock.END_OF_DAY
    return time(hour, minute)


def parse_hours(hours: Any) -> tuple[tuple[clock.Interval, ...], ...]:
    """Validate ``{"0": [["09:00", "12:00"], ...], ...}``; errors are keyed ``hours_<weekday>``."""
    if not isinstance(hours, dict):
        raise ValidationError({"hours": _("Business hours must map weekdays to intervals.")})
    days: list[tuple[clock.Interval, ...]] = []
    for day in WEEKDAYS:
        field, label = f"hours_{day}", weekday_name(day)
        intervals: list[clock.Interval] = []
        for pair in hours.get(str(day)) or []:
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                raise ValidationError({field: _("%(day)s: write each interval as start-end.") % {"day": label}})
            start = _parse_time(str(pair[0]), field=field, label=label)
            end = _parse_time(str(pair[1]), field=field, label=label)
            if start == clock.END_OF_DAY or end <= start:
                raise ValidationError(
                    {
                        field: _("%(day)s: %(start)s-%(end)s ends before it starts.")
                        % {"day": label, "start": pair[0], "end": pair[1]}
                    }
                )
            if intervals and start < intervals[-1][1]:
                raise ValidationError(
                    {
                        field: _("%(day)s: %(start)s-%(end)s overlaps another interval of the day.")
                        % {"day": label, "start": pair[0], "end": pair[1]}
                    }
                )
            intervals.append((start, end))
        days.append(tuple(intervals))
    return tuple(days)


def _sorted_hours(hours: Any) -> Hours:
    """The same hours with each day's intervals in order (an overlap check needs them sorted)."""
    if not isinstance(hours, dict):
        return hours  # type: ignore[no-any-return]
    result: Hours = {}
    for day in WEEKDAYS:
        pairs = hours.get(str(day)) or []
        if pairs:
            result[str(day)] = sorted(([str(a).strip(), str(b).strip()] for a, b in pairs), key=_sort_key)
    return result


def _sort_key(pair: list[str]) -> tuple[int, int]:
    try:
        hour, minute = pair[0].split(":")
        return int(hour), int(minute)
    except ValueError:
        return (99, 0)


def check_time_zone(name: str) -> str:
    name = (name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            {"time_zone": _("“%(zone)s” is not a known time zone; use a name such as Europe/Paris.") % {"zone": name}}
        ) from None
    return name


def check_holiday_area(country: str, subdivision: str) -> tuple[str, str]:
    """Normalise and check a country code and subdivision against the ``holidays`` package."""
    country = (country or "").strip().upper()
    subdivision = (subdivision or "").strip()
    if not country:
        if subdivision:
            raise ValidationError({"holiday_country": _("Choose the country of this subdivision.")})
        return "", ""
    supported = holidays_lib.list_supported_countries()
    if country not in supported:
        raise ValidationError(
            {
                "holiday_country": _(
                    "“%(code)s” is not a country the holidays library knows; use an ISO code such as FR."
                )
                % {"code": country}
            }
        )
    if subdivision.upper().startswith(f"{country}-"):
        subdivision = subdivision[len(country) + 1 :]
    if subdivision:
        try:
            holidays_lib.country_holidays(country, subdiv=subdivision, years=[timezone.now().year])
        except NotImplementedError:
            known = ", ".join(supported[country][:40]) or _("none")
            raise ValidationError(
                {
                    "holiday_subdivision": _("“%(sub)s” is not a subdivision of %(code)s (known: %(known)s).")
                    % {"sub": subdivision, "code": country, "known": known}
                }
            ) from None
    return country, subdivision


def validate_calendar(
    *, name: str, time_zone: str, always_open: bool, hours: Any, holiday_country: str, holiday_subdivision: str
) -> dict[str, Any]:
    """Check a calendar's fields; return them cleaned. Raises ``ValidationError`` (field -> message)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    zone = check_time_zone(time_zone)
    hours = _sorted_hours(hours)
    parsed = parse_hours(hours)
    if not always_open and not any(parsed):
        raise ValidationError(
            {"hours": _("A calendar that is not open 24/7 needs business hours on at least one weekday.")}
        )
    country, subdivision = check_holiday_area(holiday_country, holiday_subdivision)
    return {
        "name": name,
        "time_zone": zone,
        "always_open": bool(always_open),
        "hours": hours,
        "holiday_country": country,
        "holiday_subdivision": subdivision,
    }


def parse_custom_dates(lines: Iterable[tuple[str, str]]) -> list[tuple[date, str]]:
    """``(iso date, label)`` pairs to dates; errors are keyed ``custom_dates``."""
    seen: dict[date, str] = {}
    for text, label in lines:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise ValidationError(
                {"custom_dates": _("“%(value)s” is not a date like 2026-12-24.") % {"value": text}}
            ) from None
        seen[day] = label.strip()[:120]
    return sorted(seen.items())


# --- writes ---------------------------------------------------------------------------------------


@transaction.atomic
def create_calendar(
    *,
    name: str,
    time_zone: str = "Europe/Paris",
    always_open: bool = False,
    hours: Any = None,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    custom_dates: Iterable[tuple[str, str]] = (),
    is_default: bool = False,
    by: User | None,
) -> Calendar:
    permissions.require(by, "manage_calendars")
    cleaned = validate_calendar(
        name=name,
        time_zone=time_zone,
        always_open=always_open,
        hours=hours or {},
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )
    dates = parse_custom_dates(custom_dates)
    if Calendar.objects.filter(name=cleaned["name"]).exists():
        raise ValidationError({"name": _("A calendar with this name already exists.")})
    if is_default:
        Calendar.objects.filter(is_default=True).update(is_default=False)
    calendar = Calendar.objects.create(**cleaned, is_default=is_default)
    _bump()
    CalendarHoliday.objects.bulk_create([CalendarHoliday(calendar=calendar, date=d, label=lbl) for d, lbl in dates])
    return calendar


@transaction.atomic
def update_calendar(
    calendar: Calendar,
    *,
    name: str,
    time_zone: str,
    always_open: bool,
    hours: Any,
    holiday_country: str,
    holiday_subdivision: str,
    custom_dates: Iterable[tuple[str, str]],
    is_default: bool,
    by: User | None,
) -> Calendar:
    """Change a calendar. Running clocks keep their due times until their next pause or change."""
    permissions.require(by, "manage_calendars")
    cleaned = validate_calendar(
        name=name,
        time_zone=time_zone,
        always_open=always_open,
        hours=hours or {},
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )
    dates = parse_custom_dates(custom_dates)
    if Calendar.objects.filter(name=cleaned["name"]).exclude(pk=calendar.pk).exists():
        raise ValidationError({"name": _("A calendar with this name already exists.")})
    if is_default and not calendar.is_default:
        Calendar.objects.filter(is_default=True).update(is_default=False)
    for key, value in cleaned.items():
        setattr(calendar, key, value)
    calendar.is_default = is_default or (
        calendar.is_default and not Calendar.objects.exclude(pk=calendar.pk).filter(is_default=True).exists()
    )
    calendar.updated_at = timezone.now()
    calendar.save()
    _bump()
    calendar.custom_holidays.all().delete()
    CalendarHoliday.objects.bulk_create([CalendarHoliday(calendar=calendar, date=d, label=lbl) for d, lbl in dates])
    return calendar


# --- arithmetic ------------------------------------------------------------------------------------


def build(calendar: Calendar, *, around: datetime | None = None) -> clock.Calendar:
    """The pure calendar of a row (cached per row version and year). Raises ``clock.CalendarError``."""
    year = (around or timezone.now()).year
    return _build(calendar.pk, calendar.updated_at, year)


@lru_cache(maxsize=256)
def _build(pk: int, updated_at: datetime, year: int) -> clock.Calendar:
    row = Calendar.objects.get(pk=pk)
    if row.always_open:
        return clock.Calendar.always(row.time_zone)
    days = holiday_dates(row, range(year - _YEARS_BACK, year + _YEARS_AHEAD + 1))
    return clock.Calendar(tz=row.time_zone, hours=parse_hours(row.hours), holidays=frozenset(days))


def holiday_dates(calendar: Calendar, years: Iterable[int]) -> dict[date, str]:
    """Public and custom holidays of ``calendar`` in ``years``: date -> name (cached per row version)."""
    wanted = sorted(set(years))
    return dict(_holiday_dates(calendar.pk, calendar.updated_at, wanted[0], wanted[-1]))


@lru_cache(maxsize=256)
def _holiday_dates(pk: int, updated_at: datetime, first: int, last: int) -> tuple[tuple[date, str], ...]:
    row = Calendar.objects.get(pk=pk)
    found: dict[date, str] = {}
    if row.holiday_country:
        subdiv = row.holiday_subdivision or None
        found.update(holidays_lib.country_holidays(row.holiday_country, subdiv=subdiv, years=range(first, last + 1)))
    for custom in row.custom_holidays.filter(date__year__gte=first, date__year__lte=last):
        found[custom.date] = custom.label or "*"
    return tuple(sorted(found.items()))


def upcoming_holidays(calendar: Calendar, *, today: date | None = None, limit: int = 8) -> list[tuple[date, str]]:
    """The next holidays of a calendar (the preview on its admin page)."""
    today = today or timezone.localdate()
    days = holiday_dates(calendar, [today.year, today.year + 1])
    return sorted((d, n) for d, n in days.items() if d >= today)[:limit]


def closed_days_between(calendar: Calendar, start: datetime, end: datetime, *, limit: int = 10) -> list[dict[str, str]]:
    """Local dates between two instants on which the desk is closed, with why (holiday or non-working day).

    Explains in the timeline why a due time lies where it lies."""
    if calendar.always_open or end <= start:
        return []
    zone = ZoneInfo(calendar.time_zone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    if (last - first).days > 366:
        last = first + timedelta(days=366)
    names = holiday_dates(calendar, range(first.year, last.year + 1))
    hours = calendar.hours or {}
    found: list[dict[str, str]] = []
    day = first
    while day <= last and len(found) < limit:
        if day in names:
            found.append({"date": day.isoformat(), "why": "holiday", "name": names[day]})
        elif not hours.get(str(day.weekday())):
            found.append({"date": day.isoformat(), "why": "closed", "name": ""})
        day += timedelta(days=1)
    return found


def _bump() -> None:
    from palier.sla.services.policies import bump_policies  # policies import this module

    bump_policies()


# --- the API's partial changes and single holidays -------------------------------------------------

CALENDAR_FIELDS = ("name", "time_zone", "always_open", "hours", "holiday_country", "holiday_subdivision", "is_default")


@transaction.atomic
def change_calendar(calendar: Calendar, *, by: User | None, **fields: Any) -> Calendar:
    """Change only the fields given (the API's PATCH) through ``update_calendar``; its custom
    holidays stay (they are changed one by one: ``add_holiday``, ``delete_holiday``)."""
    permissions.require(by, "manage_calendars")
    unknown = set(fields) - set(CALENDAR_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    current = {name: getattr(calendar, name) for name in CALENDAR_FIELDS}
    dates = [(h.date.isoformat(), h.label) for h in calendar.custom_holidays.all()]
    return update_calendar(calendar, by=by, custom_dates=dates, **{**current, **fields})


def _touch(calendar: Calendar) -> None:
    """A calendar's closed days changed: clocks computed from now on see them."""
    Calendar.objects.filter(pk=calendar.pk).update(updated_at=timezone.now())
    _bump()


@transaction.atomic
def add_holiday(*, calendar: Calendar, day: date, label: str = "", by: User | None) -> CalendarHoliday:
    """Close ``calendar`` on ``day`` (a custom holiday; public ones come from its country)."""
    permissions.require(by, "manage_calendars")
    if CalendarHoliday.objects.filter(calendar=calendar, date=day).exists():
        raise Conflict(_("This calendar is already closed on that day."), field="date")
    holiday = CalendarHoliday.objects.create(calendar=calendar, date=day, label=label.strip()[:120])
    _touch(calendar)
    return holiday


@transaction.atomic
def delete_holiday(holiday: CalendarHoliday, *, by: User | None) -> None:
    """Open the calendar again on that day (running clocks keep their due times until they change)."""
    permissions.require(by, "manage_calendars")
    calendar = holiday.calendar
    CalendarHoliday.objects.filter(pk=holiday.pk).delete()
    _touch(calendar)
