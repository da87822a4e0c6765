"""The clocks of a ticket follow its life: start, pause, resume, re-target, stop with met/missed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from palier.lib import businesstime as clock
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.sla.models import Calendar, Clock, SlaEvent
from palier.sla.services import calendars, engine
from palier.sla.tests.conftest import Frozen, clock_of, open_ticket, paris
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db
K = Clock.Kind
EV = SlaEvent.Kind


def test_a_new_ticket_gets_response_and_resolution_clocks_with_business_due_times(
    frozen: Frozen, requester: User
) -> None:
    """Opened Friday 17:30 Paris, P3: 4 business hours with Easter Monday off is due Tuesday 12:30."""
    frozen.set(paris(2026, 4, 3, 17, 30))
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    response, resolution = clock_of(ticket, K.RESPONSE), clock_of(ticket, K.RESOLUTION)
    assert response.policy.name == "P3 - Medium"
    assert response.due_at == paris(2026, 4, 7, 12, 30)
    assert response.warn_at == paris(2026, 4, 7, 11, 30)  # 75% of 240 min
    assert resolution.due_at == paris(2026, 4, 9, 17, 30)  # 1620 business minutes
    ticket.refresh_from_db()
    assert ticket.sla_due_at == response.due_at
    started = SlaEvent.objects.get(clock=response, kind=EV.STARTED)
    assert started.data["calendar"] == "Business hours"
    assert {"date": "2026-04-06", "why": "holiday", "name": "Easter Monday"} in started.data["closed"]


def test_p1_runs_on_the_24_7_calendar(frozen: Frozen, requester: User) -> None:
    frozen.set(paris(2026, 4, 3, 17, 30))
    ticket = open_ticket(requester, impact="high", urgency="high")
    assert clock_of(ticket, K.RESPONSE).due_at == paris(2026, 4, 3, 17, 45)
    assert clock_of(ticket, K.RESOLUTION).due_at == paris(2026, 4, 3, 21, 30)


def test_pending_requester_pauses_and_the_reply_resumes_moving_due_by_the_paused_business_time(
    frozen: Frozen, requester: User, agent: User
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")  # Wednesday 09:00
    assert clock_of(ticket, K.RESPONSE).due_at == paris(2026, 4, 1, 13, 0)
    frozen.set(paris(2026, 4, 1, 10, 0))
    ticket = tickets.transition_ticket(ticket, to="pending_requester", by=agent)
    paused = clock_of(ticket, K.RESPONSE)
    assert paused.paused_at is not None and paused.consumed_minutes == 60
    assert paused.next_event_at is None
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None  # nothing runs while we wait for the requester
    frozen.set(paris(2026, 4, 1, 14, 0))
    tickets.comment_on_ticket(ticket, by=requester, body="Here is the screenshot.")
    resumed = clock_of(ticket, K.RESPONSE)
    assert resumed.paused_at is None
    assert resumed.due_at == paris(2026, 4, 1, 17, 0)  # 13:00 + the 4 business hours of waiting
    assert resumed.paused_minutes == {"pending_requester": 240}
    event = SlaEvent.objects.get(clock=resumed, kind=EV.RESUMED)
    assert event.data["waited"] == 240 and event.data["old_due"] == "2026-04-01T11:00:00+00:00"


def test_priority_change_mid_way_recomputes_the_target_with_history(
    frozen: Frozen, requester: User, agent: User
) -> None:
    ticket = open_ticket(requester)  # P4: first response 480 min, due 17:00
    assert clock_of(ticket, K.RESPONSE).due_at == paris(2026, 4, 1, 17, 0)
    frozen.set(paris(2026, 4, 1, 10, 0))
    ticket = tickets.update_ticket(
        ticket, by=agent, expected_version=None, changes={"impact": "medium", "urgency": "medium"}
    )
    response = clock_of(ticket, K.RESPONSE)
    assert response.policy.name == "P3 - Medium" and response.target_minutes == 240
    assert response.due_at == paris(2026, 4, 1, 13, 0)  # 60 min used, 180 left from 10:00
    event = SlaEvent.objects.get(clock=response, kind=EV.POLICY_CHANGED)
    assert event.data["old_due"] == "2026-04-01T15:00:00+00:00"
    assert event.data["new_due"] == "2026-04-01T11:00:00+00:00"
    assert (event.data["old_target"], event.data["new_target"]) == (480, 240)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == paris(2026, 4, 1, 13, 0)


def test_raising_to_p1_after_its_target_is_used_up_makes_it_due_now(
    frozen: Frozen, requester: User, agent: User
) -> None:
    ticket = open_ticket(requester)
    frozen.set(paris(2026, 4, 1, 10, 0))
    ticket = tickets.update_ticket(
        ticket, by=agent, expected_version=None, changes={"impact": "high", "urgency": "high"}
    )
    response = clock_of(ticket, K.RESPONSE)
    assert response.target_minutes == 15
    assert response.due_at == paris(2026, 4, 1, 10, 0) and response.next_event_at == response.warn_at


@pytest.mark.parametrize(("answer_at", "outcome"), [((2026, 4, 1, 12, 59), "met"), ((2026, 4, 1, 13, 1), "missed")])
def test_first_response_is_met_or_missed(
    frozen: Frozen, requester: User, agent: User, answer_at: tuple[int, ...], outcome: str
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    frozen.set(paris(*answer_at))
    tickets.comment_on_ticket(ticket, by=agent, body="Looking into it.")
    response = clock_of(ticket, K.RESPONSE)
    assert response.stopped_at is not None and response.outcome == outcome
    assert SlaEvent.objects.filter(clock=response, kind=outcome).count() == 1
    assert clock_of(ticket, K.RESOLUTION).stopped_at is None


@pytest.mark.parametrize(("resolve_at", "outcome"), [((2026, 4, 3, 9, 0), "met"), ((2026, 4, 8, 9, 0), "missed")])
def test_resolution_outcome_is_kept_after_close(
    frozen: Frozen, requester: User, agent: User, resolve_at: tuple[int, ...], outcome: str
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")  # due Friday 10:00
    frozen.set(paris(*resolve_at))
    ticket = tickets.transition_ticket(ticket, to="resolved", by=agent)
    assert clock_of(ticket, K.RESOLUTION).outcome == outcome
    frozen.advance(hours=1)
    ticket = tickets.transition_ticket(ticket, to="closed", by=agent)
    resolution = clock_of(ticket, K.RESOLUTION)
    assert resolution.outcome == outcome and resolution.next_event_at is None
    assert not Clock.objects.filter(ticket=ticket, stopped_at__isnull=True).exists()
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


def test_reopen_resumes_the_resolution_clock_with_the_time_already_used(
    frozen: Frozen, requester: User, agent: User
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    frozen.set(paris(2026, 4, 1, 10, 0))
    ticket = tickets.transition_ticket(ticket, to="resolved", by=agent)
    frozen.set(paris(2026, 4, 2, 9, 0))
    ticket = tickets.transition_ticket(ticket, to="in_progress", by=agent)
    resolution = clock_of(ticket, K.RESOLUTION)
    assert resolution.stopped_at is None and resolution.outcome == ""
    assert resolution.consumed_minutes == 60
    cal = calendars.build(resolution.calendar)
    assert resolution.due_at == clock.add_business_minutes(cal, paris(2026, 4, 2, 9, 0), 1560)
    assert SlaEvent.objects.filter(clock=resolution, kind=EV.RESUMED, data__reason="reopened").count() == 1


def test_cancelled_tickets_stop_their_clocks_without_an_outcome(frozen: Frozen, requester: User, agent: User) -> None:
    ticket = open_ticket(requester)
    tickets.transition_ticket(ticket, to="cancelled", by=agent)
    assert set(Clock.objects.filter(ticket=ticket).values_list("outcome", flat=True)) == {""}
    assert not Clock.objects.filter(ticket=ticket, stopped_at__isnull=True).exists()


def test_next_response_runs_from_the_requesters_reply_to_the_agents_answer(
    frozen: Frozen, requester: User, agent: User
) -> None:
    from palier.sla.models import SlaPolicy

    SlaPolicy.objects.filter(name="P4 - Low").update(next_response_minutes=120)
    ticket = open_ticket(requester)
    frozen.set(paris(2026, 4, 1, 10, 0))
    tickets.comment_on_ticket(ticket, by=agent, body="Which printer?")
    assert clock_of(ticket, K.NEXT_RESPONSE) is None  # nobody waits for us
    frozen.set(paris(2026, 4, 1, 11, 0))
    tickets.comment_on_ticket(ticket, by=requester, body="The one on floor 2.")
    following = clock_of(ticket, K.NEXT_RESPONSE)
    assert following.due_at == paris(2026, 4, 1, 13, 0) and following.stopped_at is None
    frozen.set(paris(2026, 4, 1, 12, 0))
    tickets.comment_on_ticket(ticket, by=agent, body="On my way.")
    following.refresh_from_db()
    assert following.outcome == "met"


def test_group_clock_restarts_when_the_group_changes(
    frozen: Frozen, requester: User, agent: User, triage: SupportGroup, l2: SupportGroup, admin_user: User
) -> None:
    SupportGroup.objects.filter(pk=triage.pk).update(internal_target_minutes=30)
    SupportGroup.objects.filter(pk=l2.pk).update(internal_target_minutes=120)
    ticket = open_ticket(requester)
    first = clock_of(ticket, K.GROUP)
    assert first.group == triage and first.due_at == paris(2026, 4, 1, 9, 30)
    frozen.set(paris(2026, 4, 1, 10, 0))
    tickets.update_ticket(ticket, by=admin_user, expected_version=None, changes={"group": l2})
    first.refresh_from_db()
    second = clock_of(ticket, K.GROUP)
    assert first.outcome == "missed" and first.stopped_at == paris(2026, 4, 1, 10, 0)
    assert second.group_id == l2.pk and second.due_at == paris(2026, 4, 1, 12, 0)


def _vendor(**contract: int) -> SupportGroup:
    group = people.create_group(name="Printer vendor", level=4, is_vendor=True)
    SupportGroup.objects.filter(pk=group.pk).update(**contract)
    group.refresh_from_db()
    return group


def test_vendor_clocks_run_only_while_the_ticket_is_with_the_vendor(
    frozen: Frozen, requester: User, admin_user: User, triage: SupportGroup
) -> None:
    vendor = _vendor(contract_response_minutes=60, contract_resolution_minutes=480)
    ticket = open_ticket(requester)
    assert clock_of(ticket, K.VENDOR_RESPONSE) is None
    frozen.set(paris(2026, 4, 1, 10, 0))
    ticket = tickets.update_ticket(ticket, by=admin_user, expected_version=None, changes={"group": vendor})
    response, resolution = clock_of(ticket, K.VENDOR_RESPONSE), clock_of(ticket, K.VENDOR_RESOLUTION)
    assert response.due_at == paris(2026, 4, 1, 11, 0) and resolution.due_at == paris(2026, 4, 1, 18, 0)
    # waiting for the vendor pauses the customer's SLA, not the vendor's
    frozen.set(paris(2026, 4, 1, 10, 30))
    ticket = tickets.transition_ticket(ticket, to="pending_vendor", by=admin_user)
    assert clock_of(ticket, K.RESOLUTION).paused_at is not None
    assert clock_of(ticket, K.VENDOR_RESOLUTION).paused_at is None
    frozen.set(paris(2026, 4, 1, 12, 0))
    ticket = tickets.transition_ticket(ticket, to="in_progress", by=admin_user)
    ticket = tickets.update_ticket(ticket, by=admin_user, expected_version=None, changes={"group": triage})
    response.refresh_from_db()
    resolution.refresh_from_db()
    assert (response.outcome, resolution.outcome) == ("missed", "met")
    assert not Clock.objects.filter(ticket=ticket, kind__in=Clock.VENDOR_KINDS, stopped_at__isnull=True).exists()


def test_a_broken_calendar_never_breaks_a_ticket_change(frozen: Frozen, requester: User, agent: User) -> None:
    Calendar.objects.filter(name="Business hours").update(time_zone="Mars/Olympus", updated_at=datetime.now(UTC))
    ticket = open_ticket(requester)
    response = clock_of(ticket, K.RESPONSE)
    assert response.due_at == paris(2026, 4, 1, 17, 0)  # measured on 24/7 UTC instead, and said so
    assert SlaEvent.objects.filter(ticket=ticket, kind=EV.PROBLEM, data__problem="calendar").exists()
    tickets.transition_ticket(ticket, to="resolved", by=agent)
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_hooks_are_idempotent(frozen: Frozen, requester: User) -> None:
    ticket = open_ticket(requester)
    engine.react(ticket, {}, now=frozen())
    assert Clock.objects.filter(ticket=ticket).count() == 2


def test_a_planning_failure_still_opens_the_ticket_and_starts_its_clocks_one_by_one(
    frozen: Frozen, requester: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If working out the clocks of a batch fails, the tickets are still opened and their clocks
    started afterwards by the one-ticket path."""

    def broken() -> list[object]:
        raise RuntimeError("policy cache exploded")

    monkeypatch.setattr(engine, "active_policies", broken)
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert clock_of(ticket, K.RESPONSE).due_at == paris(2026, 4, 1, 13, 0)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == paris(2026, 4, 1, 13, 0)
