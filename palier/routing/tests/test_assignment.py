"""Assignment inside a group: strategies, availability, absences, working hours, caps, requeue."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.lib.errors import PermissionDenied
from palier.notifications.models import Notification
from palier.people import services as people
from palier.routing import services
from palier.routing.models import Skill
from palier.routing.tests.conftest import members
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Level, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def rr(make_group, make_rule):
    group = make_group("Desk", strategy="round_robin", agents=3)
    make_rule("All to desk", group)
    return group


def test_round_robin_rotates(rr, requester):
    agents = members(rr)
    picked = [make_ticket(requester).assignee for _ in range(6)]
    assert picked[:3] == picked[3:]
    assert set(picked) == set(agents)
    assert all(t.status == Ticket.Status.ASSIGNED for t in Ticket.objects.all())


def test_manual_group_leaves_tickets_unassigned(make_group, make_rule, requester):
    group = make_group("Manual", agents=2)
    make_rule("All", group)
    ticket = make_ticket(requester)
    assert ticket.assignee is None and ticket.status == Ticket.Status.NEW


def test_explicit_assignee_is_kept(rr, requester, agent, triage):
    ticket = make_ticket(requester, by=agent, group=triage, assignee=agent)
    assert ticket.assignee == agent


def test_least_loaded_weighs_priority(make_group, make_rule, requester):
    group = make_group("Load", strategy="least_loaded", agents=2)
    make_rule("All", group)
    a, b = members(group)
    # a holds one P1 (weight 4), b holds three P4 (weight 3): b is less loaded
    ticket_services.open_ticket(
        requester=requester, subject="p1", impact=Level.HIGH, urgency=Level.HIGH, by=None, group=group, assignee=a
    )
    for i in range(3):
        ticket_services.open_ticket(requester=requester, subject=f"p4 {i}", by=None, group=group, assignee=b)
    assert make_ticket(requester).assignee == b
    assert make_ticket(requester).assignee == a  # b is now at 4 vs a at 4: tie goes to the longer wait


def test_skills_match_parent_categories(make_group, make_rule, requester):
    group = make_group("Skilled", strategy="skills", agents=2)
    make_rule("All", group)
    _a, b = members(group)
    Skill.objects.create(agent=b, category=Category.objects.get(slug="network"))
    vpn = Category.objects.get(slug="network-vpn")
    assert make_ticket(requester, category=vpn).assignee == b
    assert make_ticket(requester, category=vpn).assignee == b
    # nobody knows printers: the ticket waits in the group
    printer = make_ticket(requester, category=Category.objects.get(slug="hardware-printer"))
    assert printer.assignee is None and printer.group == group


def test_unavailable_agent_gets_nothing(rr, requester):
    a, b, c = members(rr)
    services.set_availability(b, False, by=b)
    picked = {make_ticket(requester).assignee for _ in range(4)}
    assert picked == {a, c}


def test_absent_agent_gets_nothing(rr, requester):
    a, b, c = members(rr)
    now = timezone.now()
    services.add_absence(a, by=None, start=now - timedelta(hours=1), end=now + timedelta(hours=1), reason="congé")
    services.add_absence(b, by=None, start=now + timedelta(days=1), end=now + timedelta(days=2))  # later: still here
    picked = {make_ticket(requester).assignee for _ in range(4)}
    assert picked == {b, c}


def test_working_hours_respected(rr, requester):
    a, b, c = members(rr)
    now = timezone.now()
    # b works only on a weekday other than today; c works every day all day
    other_day = (now.weekday() + 3) % 7
    hours = [[["09:00", "17:00"]] if day == other_day else [] for day in range(7)]
    services.set_working_hours(b, by=None, hours=hours, time_zone="UTC")
    services.set_working_hours(c, by=None, hours=[[["00:00", "24:00"]]] * 7, time_zone="UTC")
    picked = {make_ticket(requester).assignee for _ in range(4)}
    assert picked == {a, c}


def test_invalid_working_hours_refused(agent):
    with pytest.raises(ValidationError):
        services.set_working_hours(agent, by=None, hours=[[["18:00", "09:00"]]] * 7, time_zone="UTC")
    with pytest.raises(ValidationError):
        services.set_working_hours(agent, by=None, hours=[], time_zone="Mars/Olympus")


def test_max_open_tickets_respected(rr, requester):
    a, b, c = members(rr)
    for user in (a, b):
        services.set_working_hours(user, by=None, hours=[], max_open_tickets=1)
    tickets = [make_ticket(requester) for _ in range(5)]
    counts = Counter(t.assignee for t in tickets)
    assert counts[a] == 1 and counts[b] == 1 and counts[c] == 3


def test_no_available_agent_leaves_the_ticket_in_the_group(rr, requester):
    for user in members(rr):
        services.set_availability(user, False, by=None)
    ticket = make_ticket(requester)
    assert ticket.group == rr and ticket.assignee is None and ticket.status == Ticket.Status.NEW


def test_only_self_manager_or_admin_change_availability(rr, agent):
    a = members(rr)[0]
    with pytest.raises(PermissionDenied):
        services.set_availability(a, False, by=agent)


# --- requeue ----------------------------------------------------------------------------------------


def test_requeue_gives_open_tickets_to_others(rr, requester, admin_user):
    a, b, c = members(rr)
    mine = [make_ticket(requester) for _ in range(3)]
    of_a = [t for t in mine if t.assignee == a]
    assert len(of_a) == 1
    services.set_availability(a, False, by=a)
    assert services.requeue_open_tickets(a, by=admin_user) == 1
    ticket = Ticket.objects.get(pk=of_a[0].pk)
    assert ticket.assignee in (b, c) and ticket.status == Ticket.Status.ASSIGNED
    assert Notification.objects.filter(recipient=a, kind=Notification.Kind.REQUEUED).count() == 1


def test_requeue_without_anyone_available_puts_back_to_new(make_group, requester, manager):
    group = make_group("Manual", agents=1)
    people.update_group(group, by=None, name=group.name, level=1, manager=manager, members=members(group))
    a = members(group)[0]
    ticket = make_ticket(requester, by=manager, group=group, assignee=a)
    assert services.requeue_open_tickets(a, by=manager) == 1
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.status == Ticket.Status.NEW
    assert ticket.events.filter(data__field="assignee").exists()


def test_requeue_needs_manager_or_admin(rr, agent):
    with pytest.raises(PermissionDenied):
        services.requeue_open_tickets(members(rr)[0], by=agent)
