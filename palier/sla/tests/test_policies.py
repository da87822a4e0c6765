"""Which policy a ticket falls under, and what the calendar and policy services refuse."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from palier.people import services as people
from palier.people.models import Organisation, SupportGroup, User
from palier.sla import services
from palier.sla.models import Calendar, SlaPolicy
from palier.sla.services.policies import bump_policies
from palier.tickets.models import Category, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def business() -> Calendar:
    return Calendar.objects.get(name="Business hours")


def _ticket(**fields: Any) -> Ticket:
    defaults: dict[str, Any] = {"priority": 3, "kind": "incident", "category_id": None, "organisation_id": None}
    return Ticket(**{**defaults, **fields})


def test_seeded_policies_follow_the_priority(business: Calendar) -> None:
    for priority, name in [(1, "P1 - Critical"), (2, "P2 - High"), (3, "P3 - Medium"), (4, "P4 - Low")]:
        assert services.policy_for(_ticket(priority=priority)).name == name  # type: ignore[union-attr]
    p1 = SlaPolicy.objects.get(name="P1 - Critical")
    assert p1.calendar.always_open and {"action": "escalate_level", "level": 2} in p1.breach_actions
    assert SlaPolicy.objects.get(name="P4 - Low").resolution_minutes == 2700


def test_matching_matrix_first_match_by_position_wins(
    business: Calendar, org: Organisation, other_org: Organisation
) -> None:
    parent = Category.objects.filter(parent__isnull=True).first()
    assert parent is not None
    child = Category.objects.create(parent=parent, slug="child-x", name_en="Child", name_fr="Enfant")
    by_category = services.create_policy(
        name="Category",
        calendar=business,
        first_response_minutes=10,
        resolution_minutes=20,
        position=1,
        categories=[parent],
        by=None,
    )
    by_org_request = services.create_policy(
        name="Acme requests",
        calendar=business,
        first_response_minutes=10,
        resolution_minutes=20,
        position=2,
        organisations=[org],
        kinds=["request"],
        by=None,
    )
    services.create_policy(
        name="Inactive",
        calendar=business,
        first_response_minutes=1,
        resolution_minutes=2,
        position=0,
        is_active=False,
        by=None,
    )
    cases = [
        (_ticket(category_id=child.pk), by_category.name),  # a category matches its descendants
        (_ticket(category_id=parent.pk, organisation_id=org.pk), by_category.name),  # first by position
        (_ticket(kind="request", organisation_id=org.pk), by_org_request.name),
        (_ticket(kind="incident", organisation_id=org.pk), "P3 - Medium"),  # kind does not match
        (_ticket(kind="request", organisation_id=other_org.pk), "P3 - Medium"),  # organisation does not match
    ]
    for ticket, expected in cases:
        assert services.policy_for(ticket).name == expected  # type: ignore[union-attr]
    SlaPolicy.objects.all().delete()
    bump_policies()  # a write outside the services says so
    assert services.policy_for(_ticket()) is None


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in exc.value.message_dict.items()}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"hours": {"0": [["09:00", "12:00"], ["11:00", "14:00"]]}}, "hours_0", "overlaps"),
        ({"hours": {"1": [["18:00", "09:00"]]}}, "hours_1", "ends before it starts"),
        ({"hours": {"2": [["9h", "12:00"]]}}, "hours_2", "not a time"),
        ({"hours": {}}, "hours", "at least one weekday"),
        ({"time_zone": "Europe/Pariss"}, "time_zone", "not a known time zone"),
        ({"holiday_country": "XX"}, "holiday_country", "not a country"),
        ({"holiday_country": "FR", "holiday_subdivision": "99"}, "holiday_subdivision", "not a subdivision"),
    ],
)
def test_calendar_refusals(changes: dict[str, Any], field: str, words: str) -> None:
    data: dict[str, Any] = {"name": "Support", "time_zone": "Europe/Paris", "hours": {"0": [["09:00", "18:00"]]}}
    with pytest.raises(ValidationError) as exc:
        services.create_calendar(**{**data, **changes}, by=None)
    assert words in _errors(exc)[field]
    assert not Calendar.objects.filter(name="Support").exists()


def test_a_calendar_with_split_days_holidays_and_custom_dates(business: Calendar) -> None:
    calendar = services.create_calendar(
        name="Moselle",
        time_zone="Europe/Paris",
        hours={"0": [["13:30", "18:00"], ["09:00", "12:00"]]},
        holiday_country="fr",
        holiday_subdivision="57",
        custom_dates=[("2026-12-24", "Christmas Eve")],
        by=None,
    )
    assert calendar.hours == {"0": [["09:00", "12:00"], ["13:30", "18:00"]]}
    names = dict(services.upcoming_holidays(calendar, today=__import__("datetime").date(2026, 12, 1)))
    assert "Christmas Eve" in names.values() and len(names) >= 3  # 24th, 25th, 26th (Saint Stephen in Moselle)
    assert services.create_calendar(name="Always", always_open=True, by=None).always_open


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes", "at least one business minute"),
        ({"resolution_minutes": -5}, "resolution_minutes", "at least one business minute"),
        ({"warn_percent": 100}, "warn_percent", "between 1% and 99%"),
        ({"warn_percent": 0}, "warn_percent", "between 1% and 99%"),
        ({"breach_actions": [{"action": "escalate_group", "group": 999_999}]}, "breach_actions", "no longer exists"),
        ({"warning_actions": [{"action": "escalate_level", "level": 6}]}, "warning_actions", "between 1 and 5"),
        ({"warning_actions": [{"action": "explode"}]}, "warning_actions", "not a known action"),
        ({"calendar": None}, "calendar", "Choose"),
    ],
)
def test_policy_refusals(business: Calendar, changes: dict[str, Any], field: str, words: str) -> None:
    data: dict[str, Any] = {
        "name": "Gold",
        "calendar": business,
        "first_response_minutes": 30,
        "resolution_minutes": 240,
    }
    with pytest.raises(ValidationError) as exc:
        services.create_policy(**{**data, **changes}, by=None)
    assert words in _errors(exc)[field]
    assert not SlaPolicy.objects.filter(name="Gold").exists()


def test_actions_name_an_existing_group(business: Calendar) -> None:
    group = people.create_group(name="Experts", level=3)
    policy = services.create_policy(
        name="Gold",
        calendar=business,
        first_response_minutes=30,
        resolution_minutes=240,
        breach_actions=[{"action": "escalate_group", "group": group.pk}, {"action": "escalate_level", "level": 3}],
        by=None,
    )
    assert policy.breach_actions == [
        {"action": "escalate_group", "group": group.pk},
        {"action": "escalate_level", "level": 3},
    ]
    SupportGroup.objects.filter(pk=group.pk).delete()
    with pytest.raises(ValidationError):
        services.update_policy(
            policy,
            name="Gold",
            calendar=business,
            first_response_minutes=30,
            resolution_minutes=240,
            breach_actions=policy.breach_actions,
            by=None,
        )


def test_only_administrators_change_policies(business: Calendar, agent: User) -> None:
    from palier.lib.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.create_policy(
            name="Sneaky", calendar=business, first_response_minutes=1, resolution_minutes=2, by=agent
        )
    assert not SlaPolicy.objects.filter(name="Sneaky").exists()


def test_only_administrators_change_calendars(business: Calendar, agent: User) -> None:
    from palier.lib.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.update_calendar(
            business,
            name="Hacked",
            time_zone="UTC",
            always_open=True,
            hours={},
            holiday_country="",
            holiday_subdivision="",
            custom_dates=[],
            is_default=False,
            by=agent,
        )
    business.refresh_from_db()
    assert business.name != "Hacked"
