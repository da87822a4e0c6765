"""Time tracking services: the refusals first (someone else's entry, a requester, bad minutes, a
day past 24 hours, an edit after the window), then what a good entry writes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from palier.lib.errors import PermissionDenied
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets import services as ticket_services
from palier.tickets.display import event_sentence
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.models import TimeEntry as CallTime
from palier.tickets.tests.builders import make_ticket
from palier.timelog import selectors, services
from palier.timelog.models import CostRate, TimeEntry

pytestmark = pytest.mark.django_db
E = TicketEvent.Kind


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester)  # lands in the triage group, where ``agent`` works


def _nothing_written(ticket: Ticket) -> None:
    assert not TimeEntry.objects.exists()
    assert not TicketEvent.objects.filter(ticket=ticket, kind__in=[E.TIME_LOGGED, E.TIME_CHANGED]).exists()


# --- refusals ------------------------------------------------------------------------------------


def test_a_requester_cannot_log_time_even_on_their_own_ticket(ticket: Ticket, requester: User) -> None:
    with pytest.raises(PermissionDenied):
        services.log_time(ticket, by=requester, minutes=10)
    _nothing_written(ticket)


def test_an_agent_of_another_group_cannot_log_time_on_a_ticket_they_cannot_see(ticket: Ticket, agent_l2: User) -> None:
    with pytest.raises(PermissionDenied):
        services.log_time(ticket, by=agent_l2, minutes=10)
    _nothing_written(ticket)


@pytest.mark.parametrize("minutes", [-5, 0, 1441, 3000])
def test_negative_zero_and_absurd_minutes_are_refused(ticket: Ticket, agent: User, minutes: int) -> None:
    with pytest.raises(ValidationError) as exc:
        services.log_time(ticket, by=agent, minutes=minutes)
    assert "minutes" in exc.value.message_dict
    _nothing_written(ticket)


def test_a_day_cannot_hold_more_than_24_hours(ticket: Ticket, agent: User) -> None:
    day = timezone.localdate() - timedelta(days=1)
    services.log_time(ticket, by=agent, minutes=1000, work_date=day)
    with pytest.raises(ValidationError) as exc:  # 1000 + 2000 = a 3000-minute day
        services.log_time(ticket, by=agent, minutes=441, work_date=day)
    assert "24 hours" in exc.value.message_dict["minutes"][0]
    services.log_time(ticket, by=agent, minutes=440, work_date=day)  # exactly 1440: accepted
    assert TimeEntry.objects.count() == 2


def test_a_future_day_is_refused(ticket: Ticket, agent: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.log_time(ticket, by=agent, minutes=10, work_date=timezone.localdate() + timedelta(days=1))
    assert "work_date" in exc.value.message_dict
    _nothing_written(ticket)


def test_someone_else_cannot_edit_or_delete_my_entry(ticket: Ticket, agent: User, triage: SupportGroup) -> None:
    colleague = people.create_user(email="colleague@desk.test", full_name="Colleague", role=User.Role.AGENT)
    people.add_group_member(triage, user=colleague)
    entry = services.log_time(ticket, by=agent, minutes=30)
    with pytest.raises(PermissionDenied):
        services.edit_time_entry(entry, by=colleague, minutes=5, note="")
    with pytest.raises(PermissionDenied):
        services.delete_time_entry(entry, by=colleague)
    entry.refresh_from_db()
    assert entry.minutes == 30


def test_the_author_cannot_edit_after_the_window_but_an_admin_can(
    ticket: Ticket, agent: User, admin_user: User
) -> None:
    entry = services.log_time(ticket, by=agent, minutes=30)
    TimeEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - timedelta(hours=25))
    entry.refresh_from_db()
    with pytest.raises(PermissionDenied, match="24 hours"):
        services.edit_time_entry(entry, by=agent, minutes=45, note="")
    with pytest.raises(PermissionDenied):
        services.delete_time_entry(entry, by=agent)
    services.edit_time_entry(entry, by=admin_user, minutes=45, note="corrected")
    entry.refresh_from_db()
    assert (entry.minutes, entry.note) == (45, "corrected")


@override_settings(PALIER_TIME_EDIT_HOURS=0)
def test_the_window_is_a_setting(ticket: Ticket, agent: User) -> None:
    entry = services.log_time(ticket, by=agent, minutes=30)
    with pytest.raises(PermissionDenied):
        services.delete_time_entry(entry, by=agent)


def test_an_edit_cannot_push_the_day_past_24_hours(ticket: Ticket, agent: User) -> None:
    first = services.log_time(ticket, by=agent, minutes=1000)
    services.log_time(ticket, by=agent, minutes=400)
    with pytest.raises(ValidationError):
        services.edit_time_entry(first, by=agent, minutes=1041, note="")
    services.edit_time_entry(first, by=agent, minutes=1040, note="")  # 1040 + 400 = 1440


def test_only_admins_set_cost_rates(agent: User, manager: User, admin_user: User) -> None:
    for who in (agent, manager):
        with pytest.raises(PermissionDenied):
            services.set_cost_rate(by=who, level=1, hourly_rate="40", valid_from=date(2026, 1, 1))
    assert not CostRate.objects.exists()


def test_a_rate_needs_exactly_one_target_and_sane_amounts(admin_user: User, l2: SupportGroup, agent: User) -> None:
    day = date(2026, 1, 1)
    bad: list[dict[str, object]] = [
        {"hourly_rate": "40"},
        {"level": 1, "agent": agent, "hourly_rate": "40"},
        {"level": 9, "hourly_rate": "40"},
        {"level": 1, "hourly_rate": "-1"},
        {"level": 1, "hourly_rate": "lots"},
        {"level": 1, "hourly_rate": "40", "per_escalation": "10"},  # only vendors cost per escalation
        {"group": l2, "hourly_rate": "40"},  # an in-house group has its level's rate
    ]
    for kwargs in bad:
        with pytest.raises(ValidationError):
            services.set_cost_rate(by=admin_user, valid_from=day, **kwargs)  # type: ignore[arg-type]
    assert not CostRate.objects.exists()


# --- what is written -----------------------------------------------------------------------------


def test_logging_time_writes_the_entry_and_an_internal_event_without_touching_the_ticket(
    ticket: Ticket, agent: User, requester: User
) -> None:
    version = ticket.version
    entry = services.log_time(ticket, by=agent, minutes=65, note="  diagnosed  ")
    assert (entry.minutes, entry.note, entry.work_date) == (65, "diagnosed", timezone.localdate())
    event = TicketEvent.objects.get(ticket=ticket, kind=E.TIME_LOGGED)
    assert event.is_internal and event.actor == agent and event.data["minutes"] == 65
    assert event_sentence(event).startswith("logged 1 h 05 min of work")
    ticket.refresh_from_db()
    assert ticket.version == version


def test_time_with_a_reply_links_the_comment(ticket: Ticket, agent: User) -> None:
    comment = ticket_services.comment_on_ticket(ticket, by=agent, body="Rebooted.")
    entry = services.log_time(ticket, by=agent, minutes=15, comment=comment, source=TimeEntry.Source.REPLY)
    assert entry.comment == comment and entry.source == "reply"
    other = make_ticket(ticket.requester, subject="Other")
    with pytest.raises(ValidationError):
        services.log_time(other, by=agent, minutes=15, comment=comment)


def test_edit_and_delete_leave_history(ticket: Ticket, agent: User) -> None:
    entry = services.log_time(ticket, by=agent, minutes=30)
    services.edit_time_entry(entry, by=agent, minutes=45, note="more")
    services.delete_time_entry(entry, by=agent)
    assert not TimeEntry.objects.exists()
    changed, deleted = TicketEvent.objects.filter(ticket=ticket, kind=E.TIME_CHANGED).order_by("id")
    assert (changed.data["old_minutes"], changed.data["minutes"]) == (30, 45)
    assert "from 30 min to 45 min" in event_sentence(changed)
    assert deleted.data["deleted"] and "removed 45 min" in event_sentence(deleted)


def test_rates_keep_their_history_and_the_latest_valid_one_is_in_force(admin_user: User, agent: User) -> None:
    services.set_cost_rate(by=admin_user, level=1, hourly_rate="40", valid_from=date(2026, 1, 1))
    services.set_cost_rate(by=admin_user, level=1, hourly_rate="50", valid_from=date(2026, 7, 1))
    services.set_cost_rate(by=admin_user, agent=agent, hourly_rate="70", valid_from=date(2026, 3, 1))
    services.set_cost_rate(by=admin_user, level=1, hourly_rate="55", valid_from=date(2026, 7, 1))  # same day: replaces
    book = selectors.rate_book()
    assert book.hourly(agent_id=0, level=1, day=date(2025, 12, 31)) == 0
    assert book.hourly(agent_id=0, level=1, day=date(2026, 6, 30)) == Decimal("40")
    assert book.hourly(agent_id=0, level=1, day=date(2026, 7, 1)) == Decimal("55")
    assert book.hourly(agent_id=agent.pk, level=1, day=date(2026, 2, 1)) == Decimal("40")
    assert book.hourly(agent_id=agent.pk, level=1, day=date(2026, 3, 1)) == Decimal("70")  # own rate wins
    in_force = selectors.rates_in_force(on=date(2026, 2, 1))
    assert {k: str(r.hourly_rate) for k, r in in_force.items()} == {"level:1": "40.00"}  # Léa's starts in March
    history = selectors.rate_history(today=date(2026, 8, 1))
    assert [h.label for h in history] == ["L1", agent.display_name]
    assert [str(r.hourly_rate) for r in history[0].rates] == ["55.00", "40.00"]


def test_minutes_selectors(ticket: Ticket, agent: User, admin_user: User, requester: User) -> None:
    day = timezone.localdate()
    services.log_time(ticket, by=agent, minutes=30)
    services.log_time(ticket, by=admin_user, minutes=20)
    services.log_time(ticket, by=agent, minutes=10, work_date=day - timedelta(days=3))
    assert selectors.minutes_per_ticket([ticket.pk]) == {ticket.pk: 60}
    assert selectors.minutes_by_agent(ticket_ids_or_scope=[ticket.pk], since=day, until=day) == {
        agent.pk: 30,
        admin_user.pk: 20,
    }
    CallTime.objects.create(ticket=ticket, user=agent, minutes=7, source="call")  # a phone call today
    scope = Ticket.objects.filter(pk=ticket.pk)
    week = selectors.minutes_by_agent(ticket_ids_or_scope=scope, since=day - timedelta(days=6), until=day)
    assert week == {agent.pk: 47, admin_user.pk: 20}
    assert selectors.ticket_entries(requester, ticket) == []
    page = selectors.ticket_time(agent, ticket)
    assert page.total_minutes == 60 and page.can_log
    assert [row.can_change for row in page.rows] == [True, True, False]  # oldest day first; not the admin's
