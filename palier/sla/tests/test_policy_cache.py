"""Every write of a policy, a calendar or its holidays reloads the active policies in every
process (two caches of the same name stand for two processes); no Django signal is involved."""

from __future__ import annotations

import pytest

from palier.core.cache import VersionedCache
from palier.sla import services
from palier.sla.models import Calendar, SlaPolicy
from palier.sla.services import policies

pytestmark = pytest.mark.django_db

TARGETS = {"first_response_minutes": 30, "resolution_minutes": 600, "priorities": [3]}


def _settings(calendar: Calendar, **changes: object) -> dict[str, object]:
    return {"name": "Gold", "calendar": calendar, **TARGETS, **changes}


def _calendar_settings(calendar: Calendar, **changes: object) -> dict[str, object]:
    fields = ("name", "time_zone", "always_open", "hours", "holiday_country", "holiday_subdivision", "is_default")
    return {**{name: getattr(calendar, name) for name in fields}, "custom_dates": (), **changes}


def test_policy_writes_reload_the_policies_of_another_process() -> None:
    other = VersionedCache(policies.POLICIES.name, load=policies._load)  # another process
    business = Calendar.objects.get(name="Business hours")
    seeded = [p.name for p in other.get()]
    gold = services.create_policy(position=1, by=None, **_settings(business))
    assert [p.name for p in other.get()] == ["Gold", *seeded]
    services.update_policy(gold, position=1, is_active=False, by=None, **_settings(business))
    assert [p.name for p in other.get()] == seeded
    assert [p.name for p in policies.active_policies()] == seeded  # this process too


def test_calendar_and_holiday_writes_reload_the_policies_of_another_process() -> None:
    other = VersionedCache(policies.POLICIES.name, load=policies._load)
    business = Calendar.objects.get(name="Business hours")
    assert next(p for p in other.get() if p.calendar_id == business.pk).calendar.time_zone == "Europe/Paris"
    services.update_calendar(business, by=None, **_calendar_settings(business, time_zone="Europe/Brussels"))
    assert next(p for p in other.get() if p.calendar_id == business.pk).calendar.time_zone == "Europe/Brussels"
    tokens = [other.token()]
    services.update_calendar(business, by=None, **_calendar_settings(business, custom_dates=[("2026-12-24", "Eve")]))
    tokens.append(other.token())  # a holiday changed: every process reloads
    services.create_calendar(name="Night shift", always_open=True, by=None)
    tokens.append(other.token())
    assert len(set(tokens)) == 3


def test_a_policy_deleted_outside_the_services_is_seen_after_a_bump() -> None:
    """Writes outside the services (a shell) say so with ``bump_policies``; nothing listens to saves."""
    assert policies.active_policies()
    SlaPolicy.objects.all().delete()
    policies.bump_policies()
    assert policies.active_policies() == []
