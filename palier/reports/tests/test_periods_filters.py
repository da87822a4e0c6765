from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from palier.lib.errors import PermissionDenied
from palier.reports.filters import ReportFilters, parse_filters, scope_for
from palier.reports.periods import Period, period_for
from palier.tickets.tests.builders import make_ticket

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")


def test_presets_seen_from_a_day() -> None:
    today = date(2026, 5, 14)
    assert period_for("today", zone=PARIS, today=today) == Period(today, today, PARIS, "today")
    assert period_for("7d", zone=PARIS, today=today).first == date(2026, 5, 8)
    assert period_for("this_month", zone=PARIS, today=today).first == date(2026, 5, 1)
    last_month = period_for("last_month", zone=PARIS, today=today)
    assert (last_month.first, last_month.last) == (date(2026, 4, 1), date(2026, 4, 30))
    assert period_for("quarter", zone=PARIS, today=today).first == date(2026, 4, 1)
    assert period_for("year", zone=PARIS, today=today).first == date(2026, 1, 1)


def test_a_period_is_whole_local_days_and_its_previous_has_the_same_length() -> None:
    may = Period(date(2026, 5, 1), date(2026, 5, 31), PARIS)
    assert may.start == datetime(2026, 5, 1, tzinfo=PARIS) and may.end == datetime(2026, 6, 1, tzinfo=PARIS)
    assert (may.previous().first, may.previous().last) == (date(2026, 3, 31), date(2026, 4, 30))
    # 23:30 in Montréal on 31 May is already 1 June in Paris
    late = datetime(2026, 5, 31, 23, 30, tzinfo=MONTREAL)
    assert Period(date(2026, 5, 1), date(2026, 5, 31), MONTREAL).bucket_of(late) == date(2026, 5, 31)
    assert may.bucket_of(late) == date(2026, 6, 1)


def test_long_periods_count_by_week_from_monday() -> None:
    year = Period(date(2026, 1, 1), date(2026, 12, 31), PARIS)
    weeks = list(year.buckets())
    assert year.bucket == "week" and weeks[0] == date(2025, 12, 29) and weeks[1] == date(2026, 1, 5)
    assert list(Period(date(2026, 5, 1), date(2026, 5, 3), PARIS).buckets()) == [
        date(2026, 5, 1),
        date(2026, 5, 2),
        date(2026, 5, 3),
    ]


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        (None, date(2026, 5, 1), "since", "first day"),
        (date(2026, 5, 2), date(2026, 5, 1), "until", "comes before"),
        (date(2020, 1, 1), date(2026, 5, 1), "until", "at most"),
    ],
)
def test_bad_custom_ranges_are_refused(first, last, field, message) -> None:
    with pytest.raises(ValidationError) as caught:
        period_for("custom", zone=PARIS, today=date(2026, 5, 1), first=first, last=last)
    assert message in caught.value.message_dict[field][0]


def test_unknown_filter_values_are_refused_field_by_field() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filters(QueryDict("group=abc&channel=fax&kind=x&priority=9&level=0"))
    assert set(caught.value.message_dict) == {"group", "channel", "kind", "priority", "level"}
    assert parse_filters(QueryDict("group=3&priority=2&priority=1&channel=email")) == ReportFilters(
        group=3, priority=[1, 2], channel="email"
    )


@pytest.mark.django_db
def test_scope_managers_see_their_groups_agents_only_their_own_requesters_nothing(
    requester, agent, agent_l2, manager, admin_user, triage, l2
) -> None:
    in_triage = make_ticket(requester)
    assert in_triage.group_id == triage.pk
    assert list(scope_for(manager, ReportFilters()).tickets) == [in_triage]
    assert scope_for(admin_user, ReportFilters()).group_ids is None
    with pytest.raises(ValidationError):  # not Nina's group: the same answer as an unknown one
        scope_for(manager, ReportFilters(group=l2.pk))
    with pytest.raises(PermissionDenied):
        scope_for(agent, ReportFilters())  # the team dashboard is for managers and admins
    assert list(scope_for(agent, ReportFilters(personal=True)).tickets) == []
    with pytest.raises(PermissionDenied):
        scope_for(requester, ReportFilters(personal=True))
