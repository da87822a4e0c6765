"""Scheduled replies and reminders: refusals (a requester, an agent who cannot see the ticket, a
time in the past, someone else's follow-up), the job posting each exactly once, time zones, and
the cancellation when the requester answers first (a comment on the portal or an email reply)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.notifications.models import Notification
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets import stream
from palier.tickets.display import event_sentence
from palier.tickets.models import Comment, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket
from palier.worklist import selectors
from palier.worklist.models import ScheduledAction
from palier.worklist.services import scheduling
from palier.worklist.tests.helpers import reply_by_email

E = TicketEvent.Kind
ST = ScheduledAction.State


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester)


def _soon(minutes: int = 30) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def _public_replies(ticket: Ticket) -> list[str]:
    return list(Comment.objects.filter(ticket=ticket, is_internal=False).values_list("body", flat=True))


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_requester_cannot_schedule_anything(ticket: Ticket, requester: User) -> None:
    with pytest.raises(PermissionDenied):
        scheduling.schedule(ticket, by=requester, kind="reply", body="Me again", run_at=_soon())
    assert not ScheduledAction.objects.exists()


@pytest.mark.django_db
def test_an_agent_who_cannot_see_the_ticket_cannot_schedule(ticket: Ticket, agent_l2: User) -> None:
    with pytest.raises(PermissionDenied):
        scheduling.schedule(ticket, by=agent_l2, kind="reminder", run_at=_soon())
    assert not ScheduledAction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("run_at", [timezone.now() - timedelta(minutes=1), None, timezone.now() + timedelta(days=400)])
def test_a_time_in_the_past_missing_or_too_far_is_refused(ticket: Ticket, agent: User, run_at: datetime | None) -> None:
    with pytest.raises(ValidationError) as exc:
        scheduling.schedule(ticket, by=agent, kind="reminder", run_at=run_at)
    assert "run_at" in exc.value.message_dict
    assert not ScheduledAction.objects.exists()
    assert not TicketEvent.objects.filter(kind=E.FOLLOWUP).exists()


@pytest.mark.django_db
def test_an_empty_reply_and_an_unknown_kind_are_refused(ticket: Ticket, agent: User) -> None:
    with pytest.raises(ValidationError):
        scheduling.schedule(ticket, by=agent, kind="reply", body="  ", run_at=_soon())
    with pytest.raises(ValidationError):
        scheduling.schedule(ticket, by=agent, kind="email-everyone", body="x", run_at=_soon())
    assert not ScheduledAction.objects.exists()


@pytest.mark.django_db
def test_only_its_author_cancels_a_follow_up_and_only_once(ticket: Ticket, agent: User, manager: User) -> None:
    action = scheduling.schedule(ticket, by=agent, kind="reminder", body="Check again", run_at=_soon())
    with pytest.raises(PermissionDenied):
        scheduling.cancel(action, by=manager)
    assert selectors.scheduled_for_ticket(manager, ticket) == []  # nor does anyone else see it
    scheduling.cancel(action, by=agent)
    with pytest.raises(IllegalTransition):
        scheduling.cancel(action, by=agent)
    action.refresh_from_db()
    assert action.state == ST.CANCELLED and action.reason == "agent"


# --- time zones -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_naive_time_is_read_in_the_agents_time_zone(ticket: Ticket, agent: User) -> None:
    agent.work_time_zone = "America/Montreal"
    agent.save(update_fields=["work_time_zone"])
    local = (
        (timezone.now() + timedelta(days=2))
        .astimezone(ZoneInfo("America/Montreal"))
        .replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
    )
    action = scheduling.schedule(ticket, by=agent, kind="reminder", body="Tuesday check", run_at=local)
    assert action.run_at == local.replace(tzinfo=ZoneInfo("America/Montreal"))
    assert action.time_zone == "America/Montreal"
    event = TicketEvent.objects.get(kind=E.FOLLOWUP)
    assert event_sentence(event) == f"set a reminder for {local:%Y-%m-%d} 09:00 (America/Montreal)"


# --- the job ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_scheduled_reply_is_posted_once_at_its_time(ticket: Ticket, agent: User) -> None:
    action = scheduling.schedule(ticket, by=agent, kind="reply", body="Is it better now?", run_at=_soon(10))
    assert scheduling.run_due() == 0  # not yet
    later = timezone.now() + timedelta(minutes=11)
    assert scheduling.run_due(now=later) == 1
    assert scheduling.run_due(now=later) == 0  # the job running again posts nothing more
    assert scheduling.run_one(action.pk, now=later) is False
    assert _public_replies(ticket) == ["Is it better now?"]
    action.refresh_from_db()
    assert action.state == ST.DONE and action.comment is not None and action.comment.author_id == agent.pk
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None  # as a reply sent by hand


@pytest.mark.django_db
def test_a_reminder_notifies_its_author_in_the_app(ticket: Ticket, agent: User) -> None:
    scheduling.schedule(ticket, by=agent, kind="reminder", body="Check the backup ran", run_at=_soon(5))
    scheduling.run_due(now=timezone.now() + timedelta(minutes=6))
    note = Notification.objects.get(recipient=agent)
    assert note.kind == "reminder" and note.ticket_id == ticket.pk and note.data["text"] == "Check the backup ran"
    assert _public_replies(ticket) == []


@pytest.mark.django_db
def test_a_reply_whose_author_lost_access_is_not_posted_and_they_are_told(
    ticket: Ticket, agent: User, agent_l2: User, l2: object
) -> None:
    action = scheduling.schedule(ticket, by=agent, kind="reply", body="Done?", run_at=_soon(5))
    from palier.people import services as people

    people.remove_group_member(ticket.group, user=agent)  # type: ignore[arg-type]
    scheduling.run_due(now=timezone.now() + timedelta(minutes=6))
    action.refresh_from_db()
    assert action.state == ST.CANCELLED and action.reason == "refused"
    assert _public_replies(ticket) == []
    assert Notification.objects.filter(recipient=agent, kind="reminder").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_job_post_each_reply_exactly_once(requester: User, agent: User) -> None:
    """Real parallel runs (own connections): the conditional update lets one worker through."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the parallel case needs PostgreSQL")
    from django.db import connections

    tickets = [make_ticket(requester) for _ in range(6)]
    for index, ticket in enumerate(tickets):
        scheduling.schedule(ticket, by=agent, kind="reply", body=f"Follow-up {index}", run_at=_soon(1))
    later = timezone.now() + timedelta(minutes=2)
    start = threading.Barrier(2)
    ran: list[int] = []

    def worker() -> None:
        try:
            start.wait()
            ran.append(scheduling.run_due(now=later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(ran) == 6
    assert Comment.objects.filter(body__startswith="Follow-up").count() == 6
    assert TicketEvent.objects.filter(kind=E.FOLLOWUP, data__action="sent").count() == 6


@pytest.mark.django_db
def test_the_job_costs_a_bounded_number_of_queries_per_follow_up(
    requester: User, agent: User, django_assert_max_num_queries: object
) -> None:
    for _ in range(5):
        scheduling.schedule(make_ticket(requester), by=agent, kind="reminder", body="x", run_at=_soon(1))
    with django_assert_max_num_queries(1 + 5 * 8):  # type: ignore[operator]
        assert scheduling.run_due(now=timezone.now() + timedelta(minutes=2)) == 5


# --- the requester answers first ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_requester_comment_cancels_what_was_scheduled_before_it(ticket: Ticket, agent: User, requester: User) -> None:
    reply = scheduling.schedule(ticket, by=agent, kind="reply", body="Any news?", run_at=_soon(60))
    reminder = scheduling.schedule(ticket, by=agent, kind="reminder", body="Chase", run_at=_soon(60))
    ticket_services.comment_on_ticket(ticket, by=requester, body="It works again, thanks")
    stream.pump("worklist")
    for action in (reply, reminder):
        action.refresh_from_db()
        assert action.state == ST.CANCELLED and action.reason == "requester"
    scheduling.run_due(now=timezone.now() + timedelta(hours=2))
    assert _public_replies(ticket) == ["It works again, thanks"]
    sentences = [event_sentence(e) for e in TicketEvent.objects.filter(kind=E.FOLLOWUP, data__action="cancelled")]
    assert all(s.endswith("the requester answered first") for s in sentences) and len(sentences) == 2


@pytest.mark.django_db
def test_an_agent_comment_or_an_internal_note_cancels_nothing(ticket: Ticket, agent: User) -> None:
    action = scheduling.schedule(ticket, by=agent, kind="reply", body="Any news?", run_at=_soon(60))
    ticket_services.comment_on_ticket(ticket, by=agent, body="Working on it")
    ticket_services.comment_on_ticket(ticket, by=agent, body="note", internal=True)
    stream.pump("worklist")
    action.refresh_from_db()
    assert action.state == ST.PENDING


@pytest.mark.django_db
def test_an_email_reply_by_the_requester_cancels_a_scheduled_reply(
    ticket: Ticket, agent: User, requester: User
) -> None:
    action = scheduling.schedule(ticket, by=agent, kind="reply", body="Any news?", run_at=_soon(60))
    message = reply_by_email(
        ticket, sender="Alice Martin <alice@acme.test>", body="Fixed itself.", message_id="r1@acme.test"
    )
    assert message.ticket == ticket and message.comment is not None
    stream.pump("worklist")
    action.refresh_from_db()
    assert action.state == ST.CANCELLED and action.reason == "requester"


@pytest.mark.django_db
def test_the_job_itself_does_not_post_after_a_requester_answer_the_stream_has_not_seen(
    ticket: Ticket, agent: User, requester: User
) -> None:
    action = scheduling.schedule(ticket, by=agent, kind="reply", body="Any news?", run_at=_soon(5))
    ticket_services.comment_on_ticket(ticket, by=requester, body="Still broken")  # no pump
    scheduling.run_due(now=timezone.now() + timedelta(minutes=6))
    action.refresh_from_db()
    assert action.state == ST.CANCELLED and action.reason == "requester"
    assert _public_replies(ticket) == ["Still broken"]
