"""Hand-computed cases for palier.lib.businesstime, and the refusals of bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from palier.lib.businesstime import (
    END_OF_DAY,
    Calendar,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    is_business_time,
    next_business_instant,
    public_holidays,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def at(zone: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=zone)  # type: ignore[misc]


def paris(*fields: int) -> datetime:
    return at(PARIS, *fields)


NINE_TO_SIX = [(time(9), time(18))]
SPLIT = [(time(8), time(12)), (time(13, 30), time(17, 30))]

# 09:00-18:00 Monday-Friday (540 min a day, 2,700 a week) with French public holidays.
FR = Calendar.weekly("Europe/Paris", NINE_TO_SIX, holidays=public_holidays("FR", None, range(2026, 2029)))
# The same hours in Moselle, which adds Good Friday and St Stephen's day (26 December).
MOSELLE = Calendar.weekly("Europe/Paris", NINE_TO_SIX, holidays=public_holidays("FR", "FR-57", range(2026, 2029)))
# A lunch break: 08:00-12:00 and 13:30-17:30 Monday-Friday (480 min a day), no holidays.
LUNCH = Calendar.weekly("Europe/Paris", SPLIT)
ALWAYS = Calendar.always("Europe/Paris")
# 09:00-17:00 Monday-Friday in New York with New York State holidays.
NY = Calendar.weekly("America/New_York", [(time(9), time(17))], holidays=public_holidays("US", "NY", [2027]))
# 09:00-18:00 Monday-Friday in Tokyo with Japanese holidays (Golden Week).
JP = Calendar.weekly("Asia/Tokyo", NINE_TO_SIX, holidays=public_holidays("JP", None, [2027]))
# 09:00-18:00 Monday-Friday in UTC, no holidays: for the long-distance cases.
PLAIN_UTC = Calendar.weekly("UTC", NINE_TO_SIX)

ADD_CASES = [
    # Fri 17:30 -> 30 min left Friday; Sat, Sun closed; Mon 29 March is Easter Monday; Tue 09:00 + 210 min (DST changed on Sunday 28th).
    pytest.param(FR, paris(2027, 3, 26, 17, 30), 240, paris(2027, 3, 30, 12, 30), id="easter-monday-and-dst"),
    # Moselle: Thu 17:00 + 60 min to 18:00; Good Friday and Easter Monday are holidays there; Tue 09:00 + 180 min.
    pytest.param(MOSELLE, paris(2027, 3, 25, 17), 240, paris(2027, 3, 30, 12), id="moselle-good-friday"),
    # Same start nationally: Thu 60 min, Good Friday is a working day, Fri 09:00 + 180 min.
    pytest.param(FR, paris(2027, 3, 25, 17), 240, paris(2027, 3, 26, 12), id="france-works-good-friday"),
    # Moselle: Fri 17:00 + 60 min; Mon 25 Dec Christmas; Tue 26 St Stephen; Wed 09:00 + 60 min.
    pytest.param(MOSELLE, paris(2028, 12, 22, 17), 120, paris(2028, 12, 27, 10), id="moselle-st-stephen"),
    # Same start nationally: Fri 60 min; Mon Christmas; Tue 26 is a working day, 09:00 + 60 min.
    pytest.param(FR, paris(2028, 12, 22, 17), 120, paris(2028, 12, 26, 10), id="france-works-st-stephen"),
    # Thu 24 Dec 16:00 + 120 min to 18:00; Fri 25 Christmas; weekend; Mon 28 09:00 + 60 min.
    pytest.param(FR, paris(2026, 12, 24, 16), 180, paris(2026, 12, 28, 10), id="christmas"),
    # Thu 31 Dec 17:00 + 60 min; Fri 1 Jan New Year; weekend; Mon 4 Jan 09:00 + 60 min.
    pytest.param(FR, paris(2026, 12, 31, 17), 120, paris(2027, 1, 4, 10), id="new-year"),
    # Within one day: Tue 10:00 + 60 min.
    pytest.param(FR, paris(2027, 3, 2, 10), 60, paris(2027, 3, 2, 11), id="same-day"),
    # Tue 09:00 + 540 min ends exactly at closing: the closing instant, not Wednesday 09:00.
    pytest.param(FR, paris(2027, 3, 2, 9), 540, paris(2027, 3, 2, 18), id="ends-at-closing"),
    # Before opening: Wed 07:15, the clock starts at 09:00, + 30 min.
    pytest.param(FR, paris(2027, 3, 3, 7, 15), 30, paris(2027, 3, 3, 9, 30), id="before-opening"),
    # After closing: Wed 19:00, the clock starts Thu 09:00, + 30 min.
    pytest.param(FR, paris(2027, 3, 3, 19), 30, paris(2027, 3, 4, 9, 30), id="after-closing"),
    # Weekend: Sat 11:00, the clock starts Mon 09:00, + 90 min.
    pytest.param(FR, paris(2027, 3, 6, 11), 90, paris(2027, 3, 8, 10, 30), id="weekend"),
    # Holiday: Ascension Thu 6 May 10:00, the clock starts Fri 09:00, + 60 min.
    pytest.param(FR, paris(2027, 5, 6, 10), 60, paris(2027, 5, 7, 10), id="on-a-holiday"),
    # Several weeks: Mon 4 Jan 09:00 + 10,000 = 3 weeks (8,100) + 3 days (1,620) + 280 min -> Thu 28 Jan 13:40.
    pytest.param(FR, paris(2027, 1, 4, 9), 10_000, paris(2027, 1, 28, 13, 40), id="several-weeks"),
    # Zero minutes during business hours: the start itself.
    pytest.param(FR, paris(2027, 3, 2, 10, 15), 0, paris(2027, 3, 2, 10, 15), id="zero-in-hours"),
    # Zero minutes on Saturday: the next opening, Mon 09:00.
    pytest.param(FR, paris(2027, 3, 6, 11), 0, paris(2027, 3, 8, 9), id="zero-on-weekend"),
    # Zero minutes at the closing instant: 18:00 is not business time, so Wed 09:00.
    pytest.param(FR, paris(2027, 3, 2, 18), 0, paris(2027, 3, 3, 9), id="zero-at-closing"),
    # Half a minute: Tue 10:00 + 30 seconds.
    pytest.param(FR, paris(2027, 3, 2, 10), 0.5, paris(2027, 3, 2, 10, 0, 30), id="fraction"),
    # Lunch: Tue 11:00 + 60 min to 12:00, lunch break, 13:30 + 30 min.
    pytest.param(LUNCH, paris(2027, 3, 2, 11), 90, paris(2027, 3, 2, 14), id="lunch-break"),
    # Lunch: Tue 11:00 + 60 min ends exactly when the morning closes, 12:00.
    pytest.param(LUNCH, paris(2027, 3, 2, 11), 60, paris(2027, 3, 2, 12), id="ends-at-lunch"),
    # Lunch: opened at 12:45, the clock starts 13:30, + 10 min.
    pytest.param(LUNCH, paris(2027, 3, 2, 12, 45), 10, paris(2027, 3, 2, 13, 40), id="opened-at-lunch"),
    # Lunch: Tue 17:00 + 30 min to 17:30; Wed 08:00 + 30 min.
    pytest.param(LUNCH, paris(2027, 3, 2, 17), 60, paris(2027, 3, 3, 8, 30), id="split-overnight"),
    # Lunch, a full week: Mon 08:00 + 5 x 480 = 2,400 min ends at Fri 17:30.
    pytest.param(LUNCH, paris(2027, 3, 1, 8), 2_400, paris(2027, 3, 5, 17, 30), id="split-week"),
    # 24/7 over the October change: Sat 12:00 CEST (10:00Z) + 24 h real = 10:00Z Sunday = 11:00 CET.
    pytest.param(ALWAYS, paris(2027, 10, 30, 12), 1_440, paris(2027, 10, 31, 11), id="always-october"),
    # 24/7 over the March change: Sat 12:00 CET (11:00Z) + 24 h real = 11:00Z Sunday = 13:00 CEST.
    pytest.param(ALWAYS, paris(2027, 3, 27, 12), 1_440, paris(2027, 3, 28, 13), id="always-march"),
    # 24/7, zero minutes a minute before clocks spring forward: the start itself.
    pytest.param(ALWAYS, paris(2027, 3, 28, 1, 59), 0, paris(2027, 3, 28, 1, 59), id="always-zero"),
    # New York: Fri 2 July 16:00 + 60 min; Mon 5 July is Independence Day (observed); Tue 09:00 EDT + 60 min.
    pytest.param(NY, at(NEW_YORK, 2027, 7, 2, 16), 120, at(NEW_YORK, 2027, 7, 6, 10), id="new-york-july-4"),
    # New York: Fri 12 March 16:30 EST + 30 min; US DST starts Sun 14; Mon 09:00 EDT + 30 min (13:30Z).
    pytest.param(NY, at(NEW_YORK, 2027, 3, 12, 16, 30), 60, at(NEW_YORK, 2027, 3, 15, 9, 30), id="new-york-dst"),
    # Tokyo: Fri 30 April 17:00 + 60 min; Golden Week holidays Mon 3-Wed 5 May; Thu 09:00 + 60 min.
    pytest.param(JP, at(TOKYO, 2027, 4, 30, 17), 120, at(TOKYO, 2027, 5, 6, 10), id="tokyo-golden-week"),
    # Tokyo, start given in UTC: Mon 23:30Z is Tue 08:30 JST; opening 09:00 + 60 min = 10:00 JST.
    pytest.param(JP, at(ZoneInfo("UTC"), 2027, 3, 1, 23, 30), 60, at(TOKYO, 2027, 3, 2, 10), id="tokyo-from-utc"),
    # A Paris calendar, start given in New York time: 03:00 EST is 09:00 in Paris; + 60 min = 10:00 Paris.
    pytest.param(FR, at(NEW_YORK, 2027, 3, 2, 3), 60, paris(2027, 3, 2, 10), id="paris-from-new-york"),
    # 1,000,000 min from Mon 1 Jan 2024 09:00Z = 370 weeks (999,000) + Mon 540 + 460 min -> Tue 4 Feb 2031 16:40Z.
    pytest.param(
        PLAIN_UTC,
        datetime(2024, 1, 1, 9, tzinfo=UTC),
        1_000_000,
        datetime(2031, 2, 4, 16, 40, tzinfo=UTC),
        id="million",
    ),
]


@pytest.mark.parametrize(("cal", "start", "minutes", "expected"), ADD_CASES)
def test_add_business_minutes(cal: Calendar, start: datetime, minutes: float, expected: datetime) -> None:
    due = add_business_minutes(cal, start, minutes)
    assert due == expected
    assert due.tzinfo is UTC
    assert business_minutes_between(cal, start, due) == pytest.approx(minutes, abs=1e-6)


def every_day(*intervals: tuple[time, time]) -> Calendar:
    return Calendar(tz="Europe/Paris", hours=(tuple(intervals),) * 7)


BETWEEN_CASES = [
    # 24/7 on the spring-forward day: 00:00 to 00:00 lasts 23 real hours.
    pytest.param(ALWAYS, paris(2027, 3, 28), paris(2027, 3, 29), 23 * 60, id="always-23h-day"),
    # 24/7 on the fall-back day: 25 real hours.
    pytest.param(ALWAYS, paris(2027, 10, 31), paris(2027, 11, 1), 25 * 60, id="always-25h-day"),
    # 24/7, an ordinary day: 24 hours.
    pytest.param(ALWAYS, paris(2027, 6, 1), paris(2027, 6, 2), 24 * 60, id="always-24h-day"),
    # 09:00-18:00 every day: 540 minutes on both DST Sundays (wall-clock hours).
    pytest.param(every_day((time(9), time(18))), paris(2027, 3, 28), paris(2027, 3, 29), 540, id="dst-spring-540"),
    pytest.param(every_day((time(9), time(18))), paris(2027, 10, 31), paris(2027, 11, 1), 540, id="dst-autumn-540"),
    # Night shift 01:00-05:00: spring-forward night skips 02:00-03:00, so 3 real hours.
    pytest.param(every_day((time(1), time(5))), paris(2027, 3, 28), paris(2027, 3, 29), 180, id="night-spring"),
    # Night shift 01:00-05:00: the fall-back night repeats 02:00-03:00, so 5 real hours.
    pytest.param(every_day((time(1), time(5))), paris(2027, 10, 31), paris(2027, 11, 1), 300, id="night-autumn"),
    # 02:00-02:30 never shows on the spring-forward night: only 09:00-10:00 counts.
    pytest.param(
        every_day((time(2), time(2, 30)), (time(9), time(10))), paris(2027, 3, 28), paris(2027, 3, 29), 60, id="skipped"
    ),
    # 01:00-02:30 closes when clocks first read 02:30 (00:30Z), before they fall back: 90 minutes.
    pytest.param(every_day((time(1), time(2, 30))), paris(2027, 10, 31), paris(2027, 11, 1), 90, id="closes-in-fold"),
    # End before start: zero.
    pytest.param(FR, paris(2027, 3, 3, 12), paris(2027, 3, 2, 12), 0, id="reversed"),
    # Easter weekend: Fri 17:30-18:00 (30) + Tue 09:00-12:30 (210) = 240.
    pytest.param(FR, paris(2027, 3, 26, 17, 30), paris(2027, 3, 30, 12, 30), 240, id="easter"),
    # A 22:00-24:00 shift on Mondays: 120 minutes from Monday 21:00 to Tuesday 01:00.
    pytest.param(
        Calendar.weekly("Europe/Paris", [(time(22), END_OF_DAY)], weekdays=[0]),
        paris(2027, 3, 1, 21),
        paris(2027, 3, 2, 1),
        120,
        id="until-midnight",
    ),
]


@pytest.mark.parametrize(("cal", "start", "end", "expected"), BETWEEN_CASES)
def test_business_minutes_between(cal: Calendar, start: datetime, end: datetime, expected: float) -> None:
    assert business_minutes_between(cal, start, end) == expected


def test_dst_interval_opens_and_closes_at_first_reading() -> None:
    night = every_day((time(1), time(2, 30)))
    # On the fall-back night the shift closes at the first 02:30 (00:30Z); the repeated 02:30 is closed.
    assert add_business_minutes(night, paris(2027, 10, 31, 1), 90) == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert not is_business_time(night, datetime(2027, 10, 31, 1, 15, tzinfo=UTC))  # 02:15 CET, second pass
    # On the spring-forward night 01:00-02:30 stops at 02:00 CET = 03:00 CEST, the transition (01:00Z).
    assert business_minutes_between(night, paris(2027, 3, 28), paris(2027, 3, 29)) == 60
    assert next_business_instant(night, datetime(2027, 3, 28, 1, tzinfo=UTC)) == datetime(2027, 3, 28, 23, tzinfo=UTC)


def test_always_matches_general_walk_across_dst() -> None:
    """A 24/7 calendar with a far holiday takes the general path; it must agree with the fast path."""
    general = Calendar(tz="Europe/Paris", hours=ALWAYS.hours, holidays=frozenset({date(2099, 1, 1)}))
    assert not general.always_open
    start = paris(2027, 3, 20, 7, 45)
    for minutes in (0, 59, 1_440, 10_000, 60_000, 400_000):
        assert add_business_minutes(general, start, minutes) == add_business_minutes(ALWAYS, start, minutes)
    assert business_minutes_between(general, start, paris(2027, 11, 2)) == business_minutes_between(
        ALWAYS, start, paris(2027, 11, 2)
    )


def test_a_day_that_never_was() -> None:
    """Samoa skipped Friday 30 December 2011 (UTC-10 to UTC+14): no business time that day."""
    apia = ZoneInfo("Pacific/Apia")
    office = Calendar.weekly("Pacific/Apia", NINE_TO_SIX)
    # Thu 29 Dec 17:00 + 60 min to 18:00; Friday does not exist; weekend; Mon 2 Jan 09:00 + 60 min.
    assert add_business_minutes(office, at(apia, 2011, 12, 29, 17), 120) == at(apia, 2012, 1, 2, 10)
    # 24/7, with a holiday far away so the general walk runs: 29 and 31 December, 48 hours.
    always = Calendar(tz="Pacific/Apia", hours=ALWAYS.hours, holidays=frozenset({date(2099, 1, 1)}))
    assert business_minutes_between(always, at(apia, 2011, 12, 29), at(apia, 2012, 1, 1)) == 48 * 60


def test_next_business_instant_and_is_business_time() -> None:
    assert next_business_instant(FR, paris(2027, 3, 26, 18)) == paris(2027, 3, 30, 9)  # Easter weekend
    assert next_business_instant(FR, paris(2027, 3, 2, 10)) == paris(2027, 3, 2, 10)
    assert is_business_time(FR, paris(2027, 3, 2, 9))  # opening is included
    assert not is_business_time(FR, paris(2027, 3, 2, 18))  # closing is not
    assert not is_business_time(FR, paris(2027, 3, 29, 10))  # Easter Monday
    assert is_business_time(ALWAYS, paris(2027, 3, 28, 3))


def test_million_minutes_skip_plain_days(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seven years of business time are not walked day by day: only holidays, DST days and the
    two ends are computed instant by instant (the speed itself is for the benchmarks)."""
    import palier.lib.businesstime as clock_module

    calls = 0
    real = clock_module._segments

    def counting(cal: Calendar, day: date) -> list[tuple[datetime, datetime]]:
        nonlocal calls
        calls += 1
        return real(cal, day)

    monkeypatch.setattr(clock_module, "_segments", counting)
    for cal in (FR, LUNCH, NY, JP):
        calls = 0
        due = add_business_minutes(cal, paris(2026, 1, 1, 12), 1_000_000)
        assert business_minutes_between(cal, paris(2026, 1, 1, 12), due) == 1_000_000
        assert calls < 500, calls  # about 2,600 days elapse; a day-by-day walk would compute them all


def test_calendar_fields_and_equality() -> None:
    assert FR.week_minutes == 2_700
    assert LUNCH.week_minutes == 2_400
    assert ALWAYS.always_open and ALWAYS.week_minutes == 7 * 1_440
    assert Calendar.weekly("Europe/Paris", NINE_TO_SIX) == Calendar.weekly("Europe/Paris", NINE_TO_SIX)
    assert hash(LUNCH) == hash(Calendar.weekly("Europe/Paris", SPLIT))
    moselle = {date(2027, 3, 26), date(2027, 12, 26)}  # Good Friday, St Stephen's day
    assert public_holidays("fr", "57", [2027]) >= moselle
    assert public_holidays("FR", "Moselle", [2027]) == public_holidays("FR", "FR-57", [2027])
    assert not moselle & public_holidays("FR", None, [2027])


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "message"),
    [
        pytest.param([(time(9), time(12)), (time(11), time(18))], "overlaps", id="overlap"),
        pytest.param([(time(13), time(18)), (time(9), time(12))], "overlaps or comes before", id="unordered"),
        pytest.param([(time(9), time(9))], "empty", id="empty"),
        pytest.param([(time(18), time(9))], "ends before it starts", id="reversed"),
        pytest.param([(time(22), time(0))], "END_OF_DAY", id="midnight-as-zero"),
        pytest.param([(END_OF_DAY, END_OF_DAY)], "empty", id="end-of-day-start"),
        pytest.param([(time(9, tzinfo=UTC), time(18))], "without tzinfo", id="aware-time"),
        pytest.param([("09:00", time(18))], "datetime.time", id="string"),
    ],
)
def test_bad_intervals_are_refused(intervals: list[tuple[time, time]], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        Calendar.weekly("Europe/Paris", intervals)


def test_interval_error_names_the_day() -> None:
    hours = ((), (), ((time(10), time(9)),), (), (), (), ())
    with pytest.raises(CalendarError, match="Wednesday interval 10:00-09:00"):
        Calendar(tz="UTC", hours=hours)


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param(((),) * 7, id="no-hours"),
        pytest.param(((),) * 6, id="six-days"),
        pytest.param(None, id="not-a-sequence"),
    ],
)
def test_calendar_without_business_time_is_refused(hours: object) -> None:
    with pytest.raises(CalendarError, match=r"business hours|7 weekdays|7 sequences"):
        Calendar(tz="UTC", hours=hours)  # type: ignore[arg-type]


@pytest.mark.parametrize("tz", ["Europe/Pariss", "", "../etc/passwd", "Mars/Olympus"])
def test_unknown_time_zone_is_refused(tz: str) -> None:
    with pytest.raises(CalendarError, match="unknown time zone"):
        Calendar.always(tz)


def test_bad_weekdays_and_holidays_are_refused() -> None:
    with pytest.raises(CalendarError, match="weekdays"):
        Calendar.weekly("UTC", NINE_TO_SIX, weekdays=[7])
    with pytest.raises(CalendarError, match="not datetimes"):
        Calendar.weekly("UTC", NINE_TO_SIX, holidays=[datetime(2027, 1, 1)])
    with pytest.raises(CalendarError, match="not datetimes"):
        Calendar.weekly("UTC", NINE_TO_SIX, holidays=["2027-01-01"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("country", "subdiv", "message"),
    [
        ("XX", None, "unknown holiday country 'XX'"),
        ("France", None, "unknown holiday country"),
        ("FR", "99", "unknown subdivision '99'"),
        ("FR", "US-NY", "unknown subdivision"),
    ],
)
def test_unknown_holiday_places_are_refused(country: str, subdiv: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        public_holidays(country, subdiv, [2027])


def test_holidays_need_years() -> None:
    with pytest.raises(CalendarError, match="at least one year"):
        public_holidays("FR", None, [])


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2027, 3, 2, 10)
    with pytest.raises(CalendarError, match="naive"):
        add_business_minutes(FR, naive, 10)
    with pytest.raises(CalendarError, match=r"end=.* is naive"):
        business_minutes_between(FR, paris(2027, 3, 2, 10), naive)
    with pytest.raises(CalendarError, match="naive"):
        is_business_time(FR, naive)
    with pytest.raises(CalendarError, match="must be a datetime"):
        next_business_instant(FR, date(2027, 3, 2))  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [-1, -0.001, float("nan"), float("inf"), True, "10"])
def test_bad_minutes_are_refused(minutes: object) -> None:
    with pytest.raises(CalendarError, match="minutes must be"):
        add_business_minutes(FR, paris(2027, 3, 2, 10), minutes)  # type: ignore[arg-type]


def test_no_answer_within_the_horizon() -> None:
    mondays_off = Calendar.weekly(
        "UTC", NINE_TO_SIX, weekdays=[0], holidays={date(2027, 1, 4) + timedelta(weeks=w) for w in range(5_300)}
    )
    with pytest.raises(CalendarError, match="100 years"):
        next_business_instant(mondays_off, datetime(2027, 1, 1, tzinfo=UTC))
    with pytest.raises(CalendarError, match="100 years"):
        add_business_minutes(PLAIN_UTC, datetime(2027, 1, 1, tzinfo=UTC), 10**9)


def test_end_of_time_is_refused() -> None:
    with pytest.raises(CalendarError, match="outside the years"):
        add_business_minutes(ALWAYS, datetime(9999, 12, 31, 12, tzinfo=UTC), 10_000)
    with pytest.raises(CalendarError, match=r"outside the years|100 years"):
        add_business_minutes(FR, datetime(9999, 12, 30, 12, tzinfo=UTC), 10_000)
    # Measuring up to the last representable day still works: the 22 weekdays of 1-30 December 9999
    # (the FR calendar only knows holidays of 2026-2028), then Fri 31 09:00-13:00 Paris (12:00Z).
    assert business_minutes_between(FR, datetime(9999, 12, 1, tzinfo=UTC), datetime(9999, 12, 31, 12, tzinfo=UTC)) == (
        22 * 540 + 240
    )
