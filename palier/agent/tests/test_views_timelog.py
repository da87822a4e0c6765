"""Client tests for time tracking on the agent ticket page (time with a reply, the timer's source,
"log work", edit and delete) and the administrators' cost rates page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Comment, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket
from palier.timelog import services
from palier.timelog.models import CostRate, TimeEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings: Any) -> None:
    """Pages in English (the personas have no language of their own), so messages read as written."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester, subject="Printer jam")


def _reply(client: Client, ticket: Ticket, **data: Any) -> Any:
    data.setdefault("visibility", "public")
    data.setdefault("body", "Fixed the printer.")
    return client.post(reverse("agent:ticket-reply", args=[ticket.pk]), data)


def test_time_spent_with_a_reply_or_a_note(client: Client, agent: User, ticket: Ticket) -> None:
    client.force_login(agent)
    assert _reply(client, ticket, minutes="20").status_code == 302
    assert (
        _reply(client, ticket, visibility="internal", body="Checked logs", minutes="5", time_source="timer").status_code
        == 302
    )
    assert _reply(client, ticket, body="No time this one").status_code == 302
    reply, note = TimeEntry.objects.order_by("id")
    assert (reply.minutes, reply.source, reply.comment.body) == (20, "reply", "Fixed the printer.")  # type: ignore[union-attr]
    assert (note.minutes, note.source, note.comment.is_internal) == (5, "timer", True)  # type: ignore[union-attr]
    assert Comment.objects.filter(ticket=ticket).count() == 3


def test_refused_time_sends_no_reply(client: Client, agent: User, ticket: Ticket) -> None:
    client.force_login(agent)
    response = _reply(client, ticket, minutes="3000")
    assert response.status_code == 400 and "1440" in response.content.decode()
    services.log_time(ticket, by=agent, minutes=1400)
    response = _reply(client, ticket, minutes="60")  # the day would pass 24 hours
    assert response.status_code == 400 and "24 hours" in response.content.decode()
    assert not Comment.objects.filter(ticket=ticket).exists()
    assert TimeEntry.objects.count() == 1


def test_log_work_on_its_own(client: Client, agent: User, ticket: Ticket) -> None:
    client.force_login(agent)
    url = reverse("timelog:log", args=[ticket.pk])
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(url, {"minutes": "45", "work_date": yesterday.isoformat(), "note": "Replaced the drum"})
    assert response.status_code == 302 and response.url.endswith("#time")
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.work_date, entry.note, entry.source) == (45, yesterday, "Replaced the drum", "manual")
    response = client.post(url, {"minutes": "-3"}, follow=True)
    assert "greater than or equal to 1" in response.content.decode()
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(url, {"minutes": "5", "work_date": tomorrow.isoformat()}, follow=True)
    assert "has not come yet" in response.content.decode()
    assert TimeEntry.objects.count() == 1


def test_a_requester_and_another_group_cannot_log(
    client: Client, requester: User, agent_l2: User, ticket: Ticket
) -> None:
    url = reverse("timelog:log", args=[ticket.pk])
    client.force_login(requester)
    assert client.post(url, {"minutes": "5"}).status_code == 404
    client.force_login(agent_l2)
    assert client.post(url, {"minutes": "5"}).status_code == 404
    assert not TimeEntry.objects.exists()


def test_the_ticket_page_lists_entries_with_their_total_and_actions(
    client: Client, agent: User, admin_user: User, ticket: Ticket
) -> None:
    mine = services.log_time(ticket, by=agent, minutes=30, note="mine")
    theirs = services.log_time(ticket, by=admin_user, minutes=15, note="theirs")
    client.force_login(agent)
    html = client.get(reverse("agent:ticket-detail", args=[ticket.pk])).content.decode()
    assert 'id="time-total">45 min' in html and "data-timer-toggle" in html and "timelog/timer" in html
    assert reverse("timelog:entry-edit", args=[mine.pk]) in html
    assert reverse("timelog:entry-edit", args=[theirs.pk]) not in html
    assert 'name="minutes"' in html  # the reply box's time field


def test_edit_and_delete_an_entry(client: Client, agent: User, ticket: Ticket, triage: SupportGroup) -> None:
    entry = services.log_time(ticket, by=agent, minutes=30)
    colleague = people.create_user(email="colleague@desk.test", full_name="Colleague", role=User.Role.AGENT)
    people.add_group_member(triage, user=colleague)
    edit = reverse("timelog:entry-edit", args=[entry.pk])
    client.force_login(colleague)
    response = client.post(edit, {"minutes": "1", "note": ""})
    assert response.status_code == 400 and "Only the person who logged" in response.content.decode()
    client.post(reverse("timelog:entry-delete", args=[entry.pk]))
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    client.force_login(agent)
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"minutes": "40", "note": "longer"}).status_code == 302
    entry.refresh_from_db()
    assert (entry.minutes, entry.note) == (40, "longer")
    assert client.post(reverse("timelog:entry-delete", args=[entry.pk])).status_code == 302
    assert not TimeEntry.objects.exists()
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds.count("time_changed") == 2


def test_an_entry_of_an_invisible_ticket_is_absent(client: Client, agent: User, agent_l2: User, ticket: Ticket) -> None:
    entry = services.log_time(ticket, by=agent, minutes=30)
    client.force_login(agent_l2)
    assert client.get(reverse("timelog:entry-edit", args=[entry.pk])).status_code == 404


def test_the_ticket_page_query_count_does_not_grow_with_entries(
    client: Client, agent: User, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    few, many = make_ticket(requester, subject="few"), make_ticket(requester, subject="many")
    services.log_time(few, by=agent, minutes=5)
    for i in range(6):
        services.log_time(many, by=agent if i % 2 else admin_user, minutes=5 + i)
    client.force_login(agent)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("agent:ticket-detail", args=[few.pk]))
    with django_assert_num_queries(len(queries)):
        client.get(reverse("agent:ticket-detail", args=[many.pk]))


def test_cost_rates_page_is_for_admins(client: Client, admin_user: User, manager: User, agent: User) -> None:
    url = reverse("timelog:rates")
    client.force_login(manager)
    assert client.get(url).status_code == 404
    client.force_login(admin_user)
    html = client.get(url).content.decode()
    assert "Cost rates" in html and "EUR" in html
    response = client.post(url, {"target": "level:2", "hourly_rate": "75.50", "valid_from": "2026-01-01"})
    assert response.status_code == 302
    response = client.post(url, {"target": f"agent:{agent.pk}", "hourly_rate": "60", "valid_from": "2026-02-01"})
    assert response.status_code == 302
    response = client.post(
        url, {"target": "level:1", "hourly_rate": "40", "per_escalation": "10", "valid_from": "2026-02-01"}
    )
    assert response.status_code == 400 and "vendor group only" in response.content.decode()
    assert {(r.level, r.agent_id, str(r.hourly_rate)) for r in CostRate.objects.all()} == {
        (2, None, "75.50"),
        (None, agent.pk, "60.00"),
    }
    html = client.get(url).content.decode()
    assert "75.50" in html and "L2" in html and agent.display_name in html
