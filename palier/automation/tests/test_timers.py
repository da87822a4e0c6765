"""Time-based rules with a frozen clock (``now=``): business hours of the ticket's SLA calendar or
plain hours, once per period, again after the ticket changed."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta

from palier.automation import services
from palier.automation.models import Rule, RuleRun, TimerFiring
from palier.notifications.models import OutgoingEmail
from palier.people.models import User
from palier.sla.models import Clock
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

REMIND = [{"type": "email", "to": "requester", "template": "reminder"}]


def _pending(requester: User, agent: User) -> Ticket:
    ticket = make_ticket(requester)
    return ticket_services.transition_ticket(ticket, to="pending_requester", by=agent)


def test_pending_requester_for_72_business_hours(requester: User, agent: User, make_rule: Callable[..., Rule]) -> None:
    make_rule("Remind", trigger="timer", wait_status="pending_requester", wait_hours=72, actions=REMIND)
    ticket = _pending(requester, agent)
    assert Clock.objects.filter(ticket=ticket, calendar__name="Business hours").exists()
    start = ticket.updated_at
    assert services.run_timers(now=start + timedelta(hours=73)) == 0  # 73 wall hours: not 72 business hours
    assert services.run_timers(now=start + timedelta(days=20)) == 1
    assert services.run_timers(now=start + timedelta(days=21)) == 0  # once per period
    assert OutgoingEmail.objects.filter(key__startswith="rule:", address="alice@acme.test").count() == 1
    assert RuleRun.objects.get().trigger == "timer"


def test_plain_hours_without_a_calendar_and_a_new_period_after_a_change(
    requester: User, agent: User, make_rule: Callable[..., Rule]
) -> None:
    make_rule("Remind", trigger="timer", wait_status="pending_requester", wait_hours=72, actions=REMIND)
    ticket = _pending(requester, agent)
    Clock.objects.filter(ticket=ticket).delete()  # no SLA: plain hours
    start = ticket.updated_at
    assert services.run_timers(now=start + timedelta(hours=71)) == 0
    assert services.run_timers(now=start + timedelta(hours=72, minutes=1)) == 1
    ticket_services.comment_on_ticket(ticket, by=agent, body="Avez-vous pu essayer ?")
    changed = start + timedelta(hours=75)  # as if the reply came three days later
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=changed)
    assert services.run_timers(now=start + timedelta(hours=80)) == 0
    assert services.run_timers(now=changed + timedelta(hours=73)) == 1
    assert TimerFiring.objects.filter(ticket=ticket).count() == 2


def test_close_seven_days_after_resolution(requester: User, agent: User, make_rule: Callable[..., Rule]) -> None:
    make_rule(
        "Close", trigger="timer", wait_status="resolved", wait_hours=168, wait_business=False,
        actions=[{"type": "close"}],
    )  # fmt: skip
    recent, old = make_ticket(requester), make_ticket(requester)
    old = ticket_services.transition_ticket(old, to="resolved", by=agent)
    recent = ticket_services.transition_ticket(recent, to="resolved", by=agent)
    assert old.resolved_at is not None
    Ticket.objects.filter(pk=old.pk).update(resolved_at=old.resolved_at - timedelta(days=2))
    assert services.run_timers(now=recent.resolved_at + timedelta(days=6)) == 1  # type: ignore[operator]
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, recent.status) == ("closed", "resolved")


def test_timer_conditions_apply(requester: User, agent: User, make_rule: Callable[..., Rule]) -> None:
    make_rule(
        "Remind P1 only", trigger="timer", wait_status="pending_requester", wait_hours=1, wait_business=False,
        conditions=[{"field": "priority", "op": "is", "value": 1}], actions=REMIND,
    )  # fmt: skip
    ticket = _pending(requester, agent)
    assert services.run_timers(now=ticket.updated_at + timedelta(hours=2)) == 0
    assert not OutgoingEmail.objects.filter(key__startswith="rule:").exists()


def test_seeded_rules_and_the_automation_user() -> None:
    from django.apps import apps

    importlib.import_module("palier.automation.migrations.0002_seed").seed(apps, None)
    rules = list(Rule.objects.order_by("position"))
    assert [(r.trigger, r.wait_status, r.wait_hours, r.is_active) for r in rules] == [
        ("timer", "pending_requester", 72, True),
        ("timer", "resolved", 168, True),
        ("created", "", None, True),
    ]
    robot = services.robot()
    assert robot.role == "admin" and not robot.has_usable_password()
    assert robot.email.endswith(".invalid")
