"""Business-time arithmetic: pure functions over a weekly calendar, with no ORM and no Django.

A :class:`Calendar` says when the desk works: wall-clock business hours per weekday in one time
zone, minus holiday dates. The functions answer the questions the SLA engine asks:

- :func:`add_business_minutes`: at which instant will N business minutes have elapsed?
- :func:`business_minutes_between`: how many business minutes lie between two instants?
- :func:`next_business_instant` and :func:`is_business_time`.

The rules, each pinned down by ``tests/test_businesstime.py``:

**Instants.** Functions take aware datetimes in any zone (naive ones raise :class:`CalendarError`)
and return aware datetimes in **UTC**; use ``cal.zone`` to show them in local time. Durations are
counted exactly, in whole microseconds; a number of minutes may be fractional.

**Business hours are wall-clock hours.** Each weekday has ordered, non-overlapping ``(start, end)``
intervals of naive ``datetime.time`` values; a split day is two intervals (08:00-12:00 and
13:30-17:30). **24:00 is written** :data:`END_OF_DAY` (``time.max``): that interval closes when the
next local date begins. ``time(0)`` as an end is refused rather than guessed at. A night shift that
crosses midnight is two intervals, one on each weekday.

**Daylight-saving rule.** On local date *d* (not a holiday), an interval *(s, e)* opens at the first
instant at which local clocks read *s* or later on *d*, closes at the first instant at which they
read *e* or later, and counts the **real time elapsed** between the two. Hence:

- 09:00-18:00 in Paris is 540 minutes every day, including both DST Sundays;
- the 24/7 calendar counts 23 hours on the spring-forward day and 25 hours on the fall-back day;
- an interval inside the skipped hour (02:00-02:30 on Paris's spring-forward night) is empty, and
  01:00-05:00 lasts 3 hours that night;
- an interval overlapping the repeated hour counts it twice (01:00-05:00 lasts 5 hours on the
  fall-back night); one that closes inside the repeated hour closes at its first occurrence.

**Counting.** The clock starts at the first business instant at or after ``start``. For ``minutes > 0`` the
result is the *earliest* instant at which that many business minutes have elapsed, so a count that
ends exactly at closing time returns the closing instant (18:00), not the next opening. **Adding
zero minutes returns** :func:`next_business_instant` of ``start``: the moment a clock started then
would begin to run. Negative, NaN and infinite minutes are refused.

**Speed and termination.** Only holidays, days with a UTC offset change, and the first and last
days are computed instant by instant. Runs of other days are skipped by their nominal length
(whole weeks first, from business minutes precomputed per weekday), so adding a million minutes
takes well under a millisecond. This assumes a zone never changes its UTC offset and back within
one day. No search looks further than :data:`HORIZON_DAYS` (100 years) ahead of its start: it
raises :class:`CalendarError` instead, as does a result outside the years 1 to 9999.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache, wraps
from itertools import pairwise
from typing import ParamSpec, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

END_OF_DAY = time.max
"""Written as an interval end, means 24:00: the interval closes when the next local date begins."""

HORIZON_DAYS = 36_525
"""No search looks further ahead than this many days (100 years)."""

Interval = tuple[time, time]

_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MINUTE_US = 60_000_000
_DAY_US = 86_400_000_000
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_P = ParamSpec("_P")
_R = TypeVar("_R")


class CalendarError(ValueError):
    """A calendar, or an argument, that business-time arithmetic cannot work with."""


@dataclass(frozen=True)
class Calendar:
    """When the desk works: business hours per weekday (Monday first) in ``tz``, minus ``holidays``.

    ``hours`` holds 7 tuples of ``(start, end)`` intervals; a day without business hours is ``()``.
    Build holidays with :func:`public_holidays`, joined with custom dates (``a | {date(...)}``).
    Invalid calendars raise :class:`CalendarError` naming the problem.
    """

    tz: str
    hours: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    always_open: bool = field(init=False, repr=False, compare=False)
    _spans: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)
    _week_us: int = field(init=False, repr=False, compare=False)
    _holiday_list: tuple[date, ...] = field(init=False, repr=False, compare=False)
    _day_us: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hours = _normalise_hours(self.hours)
        spans = tuple(_day_spans(weekday, day) for weekday, day in enumerate(hours))
        if not any(spans):
            raise CalendarError("the calendar has no business hours on any weekday, so due dates would never come")
        holidays = _normalise_holidays(self.holidays)
        self._set("zone", _zone(self.tz))
        self._set("hours", hours)
        self._set("holidays", holidays)
        self._set("_holiday_list", tuple(sorted(holidays)))
        self._set("_spans", spans)
        self._set("_day_us", tuple(sum(end - start for start, end in day) for day in spans))
        self._set("_week_us", sum(self._day_us))
        self._set("always_open", not holidays and all(day == ((0, _DAY_US),) for day in spans))

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)

    @classmethod
    def always(cls, tz: str) -> Calendar:
        """The 24/7 calendar: every real minute counts (23-hour and 25-hour DST days included)."""
        return cls(tz=tz, hours=(((time(0), END_OF_DAY),),) * 7)

    @classmethod
    def weekly(
        cls,
        tz: str,
        intervals: Iterable[Interval],
        *,
        weekdays: Iterable[int] = range(5),
        holidays: Iterable[date] = (),
    ) -> Calendar:
        """The same ``intervals`` on each of ``weekdays`` (0 is Monday, default Monday-Friday)."""
        chosen = set(weekdays)
        if not chosen <= set(range(7)):
            raise CalendarError(f"weekdays must be 0 (Monday) to 6 (Sunday), not {sorted(chosen - set(range(7)))}")
        day = tuple(intervals)
        return cls(tz=tz, hours=tuple(day if i in chosen else () for i in range(7)), holidays=frozenset(holidays))

    @property
    def week_minutes(self) -> float:
        """Business minutes in a week without holidays or DST changes."""
        return self._week_us / _MINUTE_US


def public_holidays(country: str, subdiv: str | None, years: Iterable[int]) -> frozenset[date]:
    """Public holiday dates of ``country`` (ISO code, e.g. ``"FR"``) and optional ``subdiv``
    (``"57"``, ``"FR-57"`` or ``"Moselle"``) in ``years``, from the ``holidays`` package."""
    code = country.strip().upper()
    supported = holidays_lib.list_supported_countries()
    if code not in supported:
        raise CalendarError(f"unknown holiday country {country!r}: use an ISO 3166-1 code such as 'FR'")
    wanted = sorted(set(years))
    if not wanted:
        raise CalendarError("public_holidays needs at least one year")
    area = subdiv.strip() if subdiv else None
    if area and area.upper().startswith(f"{code}-"):
        area = area[len(code) + 1 :]
    try:
        return frozenset(holidays_lib.country_holidays(code, subdiv=area or None, years=wanted))
    except NotImplementedError as exc:
        known = ", ".join(supported[code]) or "none"
        raise CalendarError(f"unknown subdivision {subdiv!r} of holiday country {code!r} (known: {known})") from exc


def _in_range(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn datetime overflows (near year 1 or 9999) into a CalendarError."""

    @wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return func(*args, **kwargs)
        except OverflowError as exc:
            raise CalendarError(f"{func.__name__}: the result lies outside the years 1 to 9999") from exc

    return wrapper


@_in_range
def add_business_minutes(cal: Calendar, start: datetime, minutes: int | float) -> datetime:
    """The earliest UTC instant at which ``minutes`` business minutes have elapsed from ``start``.

    The clock starts at the next business instant; zero minutes returns that instant."""
    t = _aware(start, "start")
    amount = _micros(minutes)
    if cal.always_open:
        return t + amount * _US
    if amount == 0:
        return _next_open(cal, t)
    return _add(cal, t, amount)


@_in_range
def business_minutes_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business minutes in ``[start, end)``; 0 when ``end <= start``."""
    a, b = _aware(start, "start"), _aware(end, "end")
    if b <= a:
        return 0.0
    if cal.always_open:
        return ((b - a) // _US) / _MINUTE_US
    return _between(cal, a, b) / _MINUTE_US


@_in_range
def next_business_instant(cal: Calendar, t: datetime) -> datetime:
    """``t`` itself (in UTC) during business time, else the next opening."""
    instant = _aware(t, "t")
    return instant if cal.always_open else _next_open(cal, instant)


def is_business_time(cal: Calendar, t: datetime) -> bool:
    """True when the clock runs at ``t``: intervals include their opening, not their closing."""
    instant = _aware(t, "t")
    return next_business_instant(cal, instant) == instant


# -- the walks ----------------------------------------------------------------------------------


def _add(cal: Calendar, t: datetime, remaining: int) -> datetime:
    day = _local_date(cal.zone, t)
    limit = _horizon(day)
    while day <= limit:
        for opening, closing in _segments(cal, day):
            if closing <= t:
                continue
            opening = max(opening, t)
            length = (closing - opening) // _US
            if remaining <= length:
                return opening + remaining * _US
            remaining -= length
        day, remaining = _skip_plain_days(cal, day + _DAY, remaining, limit)
    raise _beyond_horizon(t)


def _between(cal: Calendar, a: datetime, b: datetime) -> int:
    day = _local_date(cal.zone, a)
    end_day = _local_date(cal.zone, b)
    # the day after b's local date too: after a fall-back across midnight, it may open before b
    last = end_day if end_day == date.max else end_day + _DAY
    total = 0
    while True:
        for opening, closing in _segments(cal, day):
            total += max(0, (min(closing, b) - max(opening, a)) // _US)
        if day >= last:
            return total
        day, total = _count_plain_days(cal, day + _DAY, end_day, total)


def _skip_plain_days(cal: Calendar, day: date, remaining: int, limit: date) -> tuple[date, int]:
    """Skip whole plain days (weeks first) from ``day`` while ``remaining`` outlasts them."""
    stop = _next_irregular(cal, day, limit)
    weeks = min((stop - day).days // 7, (remaining - 1) // cal._week_us)
    remaining -= weeks * cal._week_us
    day += weeks * _WEEK
    while day < stop and remaining > cal._day_us[day.weekday()]:
        remaining -= cal._day_us[day.weekday()]
        day += _DAY
    return day, remaining


def _count_plain_days(cal: Calendar, day: date, end_day: date, total: int) -> tuple[date, int]:
    """Add the nominal time of the plain days from ``day`` up to (not including) ``end_day``."""
    stop = _next_irregular(cal, day, end_day)
    weeks = (stop - day).days // 7
    total += weeks * cal._week_us
    day += weeks * _WEEK
    while day < stop:
        total += cal._day_us[day.weekday()]
        day += _DAY
    return day, total


def _next_open(cal: Calendar, t: datetime) -> datetime:
    day = _local_date(cal.zone, t)
    limit = _horizon(day)
    while day <= limit:
        for opening, closing in _segments(cal, day):
            if closing > t:
                return max(opening, t)
        day += _DAY
    raise _beyond_horizon(t)


def _segments(cal: Calendar, day: date) -> list[tuple[datetime, datetime]]:
    """The non-empty UTC ``[opening, closing)`` pairs of local date ``day``, in order."""
    if day in cal.holidays:
        return []
    midnight = datetime.combine(day, time())
    found = []
    for start, end in cal._spans[day.weekday()]:
        opening = _first_instant(cal.zone, midnight + start * _US)
        closing = _first_instant(cal.zone, midnight + end * _US)
        if closing > opening:
            found.append((opening, closing))
    return found


def _next_irregular(cal: Calendar, day: date, end: date) -> date:
    """The first date from ``day`` on that is not *plain*, or ``end`` if none comes before it.

    A plain day is no holiday and has the same UTC offset at its local midnight and the next one:
    it holds exactly its weekday's nominal business time, all of it after any instant of an
    earlier local date (a fall-back across midnight makes the day not plain). This assumes a zone
    never changes its offset and back within one day."""
    if day >= end:
        return day
    index = bisect_left(cal._holiday_list, day)
    found = min(cal._holiday_list[index], end) if index < len(cal._holiday_list) else end
    for year in range(day.year, found.year + 1):
        changes = _offset_changes(cal.zone, year)
        index = bisect_left(changes, day)
        if index < len(changes):
            return min(found, changes[index])
    return found


@lru_cache(maxsize=4096)
def _offset_changes(zone: ZoneInfo, year: int) -> tuple[date, ...]:
    """Local dates of ``year`` whose midnight and the next midnight have different UTC offsets."""
    first = date(year, 1, 1)
    days = [first + i * _DAY for i in range((date(year, 12, 31) - first).days + 1)]
    if year < MAXYEAR:
        days.append(date(year + 1, 1, 1))
    offsets = [datetime.combine(d, time(), tzinfo=zone).utcoffset() for d in days]
    return tuple(d for d, (now, then) in zip(days, pairwise(offsets), strict=False) if now != then)


def _first_instant(zone: ZoneInfo, wall: datetime) -> datetime:
    """The first UTC instant at which local clocks read naive ``wall`` or later."""
    before = _utcoffset(wall.replace(tzinfo=zone, fold=0))
    after = _utcoffset(wall.replace(tzinfo=zone, fold=1))
    if before >= after:  # a plain time, or a repeated one whose first occurrence has the larger offset
        return (wall - before).replace(tzinfo=UTC)
    # clocks jump over ``wall``: the answer is the transition, between these two instants
    return _transition(zone, (wall - after).replace(tzinfo=UTC), (wall - before).replace(tzinfo=UTC), wall)


def _transition(zone: ZoneInfo, low: datetime, high: datetime, wall: datetime) -> datetime:
    """Bisect (to the microsecond) for the first instant in ``(low, high]`` reading ``wall`` or later."""
    lo, hi = 0, (high - low) // _US
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if (low + mid * _US).astimezone(zone).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return low + hi * _US


def _utcoffset(t: datetime) -> timedelta:
    offset = t.utcoffset()
    if offset is None:  # pragma: no cover - ZoneInfo always answers
        raise CalendarError(f"no UTC offset for {t!r}")
    return offset


def _local_date(zone: ZoneInfo, t: datetime) -> date:
    return t.astimezone(zone).date()


def _horizon(day: date) -> date:
    if (date.max - day).days <= HORIZON_DAYS:
        return date.max
    return day + timedelta(days=HORIZON_DAYS)


def _beyond_horizon(t: datetime) -> CalendarError:
    return CalendarError(f"no answer within {HORIZON_DAYS} days (100 years) of {t.isoformat()}")


# -- validation ---------------------------------------------------------------------------------


def _aware(t: datetime, name: str) -> datetime:
    if not isinstance(t, datetime):
        raise CalendarError(f"{name} must be a datetime, not {type(t).__name__}")
    if t.utcoffset() is None:
        raise CalendarError(f"{name}={t.isoformat()} is naive: pass an aware datetime (for example tzinfo=UTC)")
    return t.astimezone(UTC)


def _micros(minutes: int | float) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int | float):
        raise CalendarError(f"minutes must be a number, not {minutes!r}")
    if not math.isfinite(minutes) or minutes < 0:
        raise CalendarError(f"minutes must be zero or more, not {minutes!r}")
    return round(minutes * _MINUTE_US)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise CalendarError(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Paris'") from exc


def _normalise_hours(hours: Iterable[Iterable[Interval]]) -> tuple[tuple[Interval, ...], ...]:
    try:
        days = tuple(tuple((start, end) for start, end in day) for day in hours)
    except (TypeError, ValueError) as exc:
        raise CalendarError("hours must be 7 sequences of (start, end) time pairs, Monday first") from exc
    if len(days) != 7:
        raise CalendarError(f"hours must list 7 weekdays, Monday first, not {len(days)}")
    return days


def _day_spans(weekday: int, intervals: tuple[Interval, ...]) -> tuple[tuple[int, int], ...]:
    """Validate one weekday's intervals; return them as microsecond offsets from midnight."""
    spans: list[tuple[int, int]] = []
    for start, end in intervals:
        label = f"{_WEEKDAYS[weekday]} interval {_label(start)}-{_label(end)}"
        s, e = _offset(start, label), _offset(end, label)
        if s == e:
            raise CalendarError(f"{label} is empty: it starts when it ends")
        if s > e:
            raise CalendarError(f"{label} ends before it starts (write 24:00 as END_OF_DAY, time.max)")
        if spans and s < spans[-1][1]:
            raise CalendarError(f"{label} overlaps or comes before the interval listed before it")
        spans.append((s, e))
    return tuple(spans)


def _offset(t: time, label: str) -> int:
    if not isinstance(t, time):
        raise CalendarError(f"{label}: bounds must be datetime.time values, not {type(t).__name__}")
    if t.tzinfo is not None:
        raise CalendarError(f"{label}: bounds are wall-clock times, give them without tzinfo")
    if t == END_OF_DAY:
        return _DAY_US
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _label(t: object) -> str:
    if isinstance(t, time):
        return "24:00" if t == END_OF_DAY else t.isoformat(timespec="minutes" if not t.second else "seconds")
    return repr(t)


def _normalise_holidays(values: Iterable[date]) -> frozenset[date]:
    try:
        dates = frozenset(values)
    except TypeError as exc:
        raise CalendarError("holidays must be a collection of dates") from exc
    for value in dates:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise CalendarError(f"holidays must be dates (not datetimes), got {value!r}")
    return dates
