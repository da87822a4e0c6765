"""Properties of palier.lib.businesstime over random calendars, plus a minute-by-minute oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from palier.lib.businesstime import (
    END_OF_DAY,
    Calendar,
    add_business_minutes,
    business_minutes_between,
    is_business_time,
    next_business_instant,
    public_holidays,
)

# Zones with ordinary DST (Paris, New York), none (Tokyo, UTC), a 30-minute DST (Lord Howe) and
# transitions at midnight (Santiago).
# the same on every database: runs in the PostgreSQL pass (conftest.py)
pytestmark = pytest.mark.engine_independent

ZONES = ["Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Australia/Lord_Howe", "America/Santiago"]
US = timedelta(microseconds=1)
TOLERANCE = 1e-6


def wall(minute: int) -> time:
    return END_OF_DAY if minute == 1_440 else time(minute // 60, minute % 60)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    """0 to 3 ordered, disjoint intervals on a 5-minute grid (a quarter of them on any minute)."""
    grid = draw(st.sampled_from([1, 5, 5, 5]))
    cuts = sorted(draw(st.lists(st.integers(0, 1_440 // grid), unique=True, max_size=6)))
    cuts = [c * grid for c in cuts[: len(cuts) // 2 * 2]]
    return tuple((wall(a), wall(b)) for a, b in zip(cuts[::2], cuts[1::2], strict=True))


FIRST_HOLIDAY = date(2019, 12, 1)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """A random zone; two random day patterns (or 24/7), each weekday taking one or none of them;
    up to 20 random holidays between 2019 and 2031."""
    tz = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        return Calendar.always(tz)
    patterns = [(), draw(day_hours()), draw(day_hours())]
    choice = draw(st.lists(st.integers(0, 2), min_size=7, max_size=7))
    hours = tuple(patterns[i] for i in choice)
    if not any(hours):
        hours = (((time(9), time(17)),), *hours[1:])
    offsets = draw(st.lists(st.integers(0, 4_400), max_size=20))
    holidays = frozenset(FIRST_HOLIDAY + timedelta(days=n) for n in offsets)
    return Calendar(tz=tz, hours=hours, holidays=holidays)


starts = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC))
gaps = st.timedeltas(timedelta(0), timedelta(days=40))


@st.composite
def minute_counts(draw: st.DrawFn, cal: Calendar, integers: bool = False) -> float:
    """Up to about 150 weeks of this calendar's business time, sometimes tiny, sometimes exact."""
    weeks = draw(st.floats(0, 150) | st.sampled_from([0.0, 1.0, 2.0]))
    amount = weeks * cal.week_minutes
    if integers or draw(st.booleans()):
        return float(int(amount))
    return amount


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(data=st.data(), cal=calendars(), start=starts)
def test_measuring_what_was_added_gives_it_back(data: st.DataObject, cal: Calendar, start: datetime) -> None:
    minutes = data.draw(minute_counts(cal))
    due = add_business_minutes(cal, start, minutes)
    assert due >= start
    assert business_minutes_between(cal, start, due) == pytest.approx(minutes, abs=TOLERANCE)


@PROPERTY
@given(data=st.data(), cal=calendars(), start=starts)
def test_adding_is_monotonic(data: st.DataObject, cal: Calendar, start: datetime) -> None:
    low, high = sorted([data.draw(minute_counts(cal)), data.draw(minute_counts(cal))])
    assert add_business_minutes(cal, start, low) <= add_business_minutes(cal, start, high)


@PROPERTY
@given(data=st.data(), cal=calendars(), start=starts)
def test_due_time_is_business_time_or_a_closing(data: st.DataObject, cal: Calendar, start: datetime) -> None:
    due = add_business_minutes(cal, start, data.draw(minute_counts(cal)))
    assert is_business_time(cal, due) or is_business_time(cal, due - US)


@PROPERTY
@given(cal=calendars(), t=starts)
def test_next_business_instant(cal: Calendar, t: datetime) -> None:
    opening = next_business_instant(cal, t)
    assert opening >= t
    assert is_business_time(cal, opening)
    assert business_minutes_between(cal, t, opening) == 0
    assert add_business_minutes(cal, t, 0) == opening


@PROPERTY
@given(cal=calendars(), start=starts, first=gaps, second=gaps, third=gaps)
def test_measuring_is_additive(
    cal: Calendar, start: datetime, first: timedelta, second: timedelta, third: timedelta
) -> None:
    p0 = start + first
    p1 = p0 + second
    end = p1 + third
    whole = business_minutes_between(cal, start, end)
    parts = [business_minutes_between(cal, a, b) for a, b in [(start, p0), (p0, p1), (p1, end)]]
    assert whole == pytest.approx(sum(parts), abs=TOLERANCE)


@PROPERTY
@given(data=st.data(), cal=calendars(), start=starts, share=st.floats(0, 1, exclude_max=True), pause=gaps)
def test_a_pause_shifts_the_due_time_by_its_business_length(
    data: st.DataObject, cal: Calendar, start: datetime, share: float, pause: timedelta
) -> None:
    """Paused from p0 (before the due time) to p1: the clock resumes at p1 with what was left."""
    minutes = max(1.0, data.draw(minute_counts(cal, integers=True)))
    due = add_business_minutes(cal, start, minutes)
    p0 = min(start + (due - start) * share, due - US)  # rounding must not push p0 onto the due time
    p1 = p0 + pause
    spent = business_minutes_between(cal, start, p0)
    paused = business_minutes_between(cal, p0, p1)
    resumed_due = add_business_minutes(cal, p1, minutes - spent)
    assert resumed_due == add_business_minutes(cal, start, minutes + paused)
    assert business_minutes_between(cal, due, resumed_due) == pytest.approx(paused, abs=TOLERANCE)


@settings(max_examples=100, deadline=None)
@given(cal=calendars(), start=starts, span=st.integers(0, 70))
def test_skipping_plain_days_agrees_with_walking_them(cal: Calendar, start: datetime, span: int) -> None:
    """Day-long spans never skip plain days by their nominal length; summed, they must equal the
    long measure, which skips whole weeks and days."""
    days = [start + timedelta(days=i) for i in range(span + 1)]
    daily = sum(business_minutes_between(cal, a, b) for a, b in pairwise(days))
    assert business_minutes_between(cal, days[0], days[-1]) == pytest.approx(daily, abs=TOLERANCE)


# -- an independent oracle: step minute by minute and read the local wall clock ---------------------

FR_HOLIDAYS = public_holidays("FR", None, [2027])
ORACLE_CALENDARS = [
    Calendar.weekly("Europe/Paris", [(time(9), time(18))], holidays=FR_HOLIDAYS),
    Calendar.weekly("Europe/Paris", [(time(8), time(12)), (time(13, 30), time(17, 30))], weekdays=range(7)),
    Calendar.weekly("America/New_York", [(time(7), time(12)), (time(18), END_OF_DAY)], weekdays=[0, 2, 4, 6]),
    Calendar.weekly("Asia/Tokyo", [(time(9), time(18))]),
    Calendar.always("Europe/Paris"),
    Calendar.always("America/Santiago"),
]
# Four weeks around each 2027 change: Paris 28 March and 31 October, New York 14 March and 7 November,
# Santiago 4 April and 5 September.
WINDOWS = [(date(2027, 3, 1), date(2027, 4, 15)), (date(2027, 8, 25), date(2027, 11, 15))]


def wall_clock_minutes(cal: Calendar, start: datetime, end: datetime) -> int:
    """Count the minutes whose local reading lies in a business interval (valid here because no
    interval of these calendars starts or ends inside a skipped or repeated hour). Every boundary
    and every change falls on a multiple of 5 minutes, so 5-minute steps are exact."""
    count = 0
    t = start
    while t < end:
        local = t.astimezone(cal.zone)
        now = local.time().replace(tzinfo=None)
        intervals = cal.hours[local.weekday()] if local.date() not in cal.holidays else ()
        count += 5 * any(a <= now and (b == END_OF_DAY or now < b) for a, b in intervals)
        t += timedelta(minutes=5)
    return count


@pytest.mark.parametrize("cal", ORACLE_CALENDARS, ids=lambda cal: cal.tz)
@pytest.mark.parametrize("window", WINDOWS, ids=["spring", "autumn"])
def test_matches_the_wall_clock_minute_by_minute(cal: Calendar, window: tuple[date, date]) -> None:
    start = datetime.combine(window[0], time(), tzinfo=ZoneInfo("UTC"))
    end = datetime.combine(window[1], time(), tzinfo=ZoneInfo("UTC"))
    assert business_minutes_between(cal, start, end) == wall_clock_minutes(cal, start, end)
