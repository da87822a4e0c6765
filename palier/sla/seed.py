"""Default calendars and policies, seeded by migration ``0002_seed`` (and re-run by the test
suite after transactional tests flush the database). Works with historical models."""

from __future__ import annotations

from typing import Any

WEEKDAY_HOURS = {str(day): [["09:00", "18:00"]] for day in range(5)}
WARNING = [{"action": "notify_assignee"}, {"action": "notify_group"}]
BREACH = [{"action": "notify_manager"}]

# name, priority, calendar, first response, resolution (business minutes), breach actions
POLICIES = [
    ("P1 - Critical", 1, "24/7", 15, 240, [*BREACH, {"action": "escalate_level", "level": 2}]),
    ("P2 - High", 2, "Business hours", 60, 480, BREACH),
    ("P3 - Medium", 3, "Business hours", 240, 1620, BREACH),
    ("P4 - Low", 4, "Business hours", 480, 2700, BREACH),
]


def seed(apps: Any, schema_editor: Any) -> None:
    Calendar = apps.get_model("sla", "Calendar")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    business, _created = Calendar.objects.get_or_create(
        name="Business hours",
        defaults={
            "time_zone": "Europe/Paris",
            "hours": WEEKDAY_HOURS,
            "holiday_country": "FR",
            "is_default": not Calendar.objects.filter(is_default=True).exists(),
        },
    )
    always, _created = Calendar.objects.get_or_create(
        name="24/7", defaults={"time_zone": "Europe/Paris", "always_open": True}
    )
    calendars = {"Business hours": business, "24/7": always}
    if SlaPolicy.objects.exists():
        return
    for position, (name, priority, calendar, response, resolution, breach) in enumerate(POLICIES, start=1):
        SlaPolicy.objects.create(
            name=name,
            position=position * 10,
            priorities=[priority],
            calendar=calendars[calendar],
            first_response_minutes=response,
            resolution_minutes=resolution,
            pause_statuses=["pending_requester", "pending_vendor"],
            warn_percent=75,
            warning_actions=WARNING,
            breach_actions=breach,
        )
