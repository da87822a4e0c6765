"""Client tests for the SLA administration pages (admins only)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import User
from palier.sla.models import Calendar, SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_pages(client: Client) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assertions read the English source strings


PAGES = ["sla:calendars", "sla:policies"]

CALENDAR = {
    "name": "Lyon office",
    "time_zone": "Europe/Paris",
    "hours_0": "08:30-12:00, 13:30-17:30",
    "hours_1": "08:30-12:00, 13:30-17:30",
    "holiday_country": "FR",
    "holiday_subdivision": "",
    "custom_dates": "2026-12-24 Christmas Eve",
}


@pytest.mark.parametrize("name", PAGES)
def test_sla_admin_pages_refuse_non_admins(
    client: Client, name: str, requester: User, agent: User, manager: User
) -> None:
    assert client.get(reverse(name)).status_code == 302  # anonymous: to the login page
    for user in (requester, agent, manager):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 404  # like every admin page: absent, not forbidden
        assert client.post(reverse(name), {**CALENDAR, "name": "Sneaky"}).status_code == 404
    assert not Calendar.objects.filter(name="Sneaky").exists()


def test_admin_creates_and_edits_a_calendar(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    assert "Business hours" in client.get(reverse("sla:calendars")).content.decode()
    response = client.post(reverse("sla:calendars"), CALENDAR)
    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Lyon office")
    assert calendar.hours["0"] == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert calendar.custom_holidays.get().label == "Christmas Eve"
    page = client.get(reverse("sla:calendar-edit", args=[calendar.pk])).content.decode()
    assert "08:30-12:00, 13:30-17:30" in page and "Christmas Eve" in page
    response = client.post(reverse("sla:calendar-edit", args=[calendar.pk]), {**CALENDAR, "hours_4": "09:00-16:00"})
    assert response.status_code == 302
    calendar.refresh_from_db()
    assert calendar.hours["4"] == [["09:00", "16:00"]]


def test_invalid_calendar_shows_the_error_and_changes_nothing(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("sla:calendars"), {**CALENDAR, "hours_0": "09:00-12:00, 11:00-14:00"})
    assert response.status_code == 400
    assert "overlaps another interval" in response.content.decode()
    response = client.post(reverse("sla:calendars"), {**CALENDAR, "holiday_country": "ZZ"})
    assert response.status_code == 400 and "not a country" in response.content.decode()
    assert not Calendar.objects.filter(name="Lyon office").exists()
    business = Calendar.objects.get(name="Business hours")
    response = client.post(reverse("sla:calendar-edit", args=[business.pk]), {**CALENDAR, "time_zone": "Nowhere/City"})
    assert response.status_code == 400 and "not a known time zone" in response.content.decode()
    business.refresh_from_db()
    assert business.name == "Business hours"


def _policy(**changes: object) -> dict[str, object]:
    business = Calendar.objects.get(name="Business hours")
    return {
        "name": "Gold customers",
        "position": "5",
        "is_active": "on",
        "priorities": ["1", "2"],
        "kinds": ["incident"],
        "calendar": str(business.pk),
        "first_response_minutes": "30",
        "resolution_minutes": "240",
        "pause_statuses": ["pending_requester"],
        "warn_percent": "80",
        "warning_notify": ["notify_assignee"],
        "breach_notify": ["notify_manager"],
        "breach_raise_priority": "on",
        "breach_escalate_level": "2",
        **changes,
    }


def test_admin_creates_and_edits_a_policy(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("sla:policies"), _policy())
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="Gold customers")
    assert (policy.priorities, policy.kinds, policy.warn_percent) == ([1, 2], ["incident"], 80)
    assert policy.breach_actions == [
        {"action": "notify_manager"},
        {"action": "raise_priority"},
        {"action": "escalate_level", "level": 2},
    ]
    assert policy.pause_statuses == ["pending_requester"]
    page = client.get(reverse("sla:policies")).content.decode()
    assert page.index("Gold customers") < page.index("P1 - Critical")  # ordered by position
    response = client.post(reverse("sla:policy-edit", args=[policy.pk]), _policy(resolution_minutes="480"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.resolution_minutes == 480
    assert client.get(reverse("sla:policy-edit", args=[policy.pk])).status_code == 200


def test_invalid_policy_shows_the_error_and_changes_nothing(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("sla:policies"), _policy(resolution_minutes="0"))
    assert response.status_code == 400 and "at least one business minute" in response.content.decode()
    response = client.post(reverse("sla:policies"), _policy(warn_percent="120"))
    assert response.status_code == 400 and "between 1% and 99%" in response.content.decode()
    assert not SlaPolicy.objects.filter(name="Gold customers").exists()
