"""Client tests of the worklist pages: the ticket page's tasks panel and schedule form (an
outsider, a requester and an agent of another group first), a task's edit page, resolving with an
open mandatory task, "my tasks" on the agent's own queue view and its page, and the
administrators' task templates; query counts on every page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket
from palier.worklist.models import ScheduledAction, TaskTemplate, TicketTask
from palier.worklist.services import scheduling, tasks, templates

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester, subject="Printer jam")


def _detail(ticket: Ticket) -> str:
    return reverse("agent:ticket-detail", args=[ticket.pk])


def _page(client: Client, ticket: Ticket) -> str:
    return client.get(_detail(ticket)).content.decode()


# --- attackers first -------------------------------------------------------------------------------------


def test_a_requester_reaches_none_of_the_worklist_pages(
    client: Client, ticket: Ticket, requester: User, agent: User
) -> None:
    task = tasks.add_task(ticket, by=agent, title="Internal")
    client.force_login(requester)
    assert client.post(reverse("worklist:task-add", args=[ticket.pk]), {"title": "x"}).status_code == 404
    assert client.get(reverse("worklist:task-edit", args=[task.pk])).status_code == 404
    assert (
        client.post(reverse("worklist:task-status", args=[task.pk]), {"status": "done", "version": 1}).status_code
        == 404
    )
    assert client.get(reverse("worklist:mine")).status_code == 404
    portal = client.get(reverse("portal:ticket-detail", args=[ticket.pk])).content.decode()
    assert "Internal" not in portal
    task.refresh_from_db()
    assert task.status == "open" and TicketTask.objects.count() == 1


def test_an_agent_who_cannot_see_the_ticket_gets_404_and_changes_nothing(
    client: Client, ticket: Ticket, agent: User, agent_l2: User
) -> None:
    task = tasks.add_task(ticket, by=agent, title="Swap the toner")
    client.force_login(agent_l2)
    assert client.post(reverse("worklist:task-add", args=[ticket.pk]), {"title": "x"}).status_code == 404
    assert client.get(reverse("worklist:task-edit", args=[task.pk])).status_code == 404
    response = client.post(
        reverse("worklist:task-edit", args=[task.pk]), {"title": "Hacked", "status": "done", "version": 1}
    )
    assert response.status_code == 404
    assert client.post(reverse("worklist:schedule", args=[ticket.pk]), {"kind": "reply"}).status_code == 404
    task.refresh_from_db()
    assert (task.title, task.status) == ("Swap the toner", "open")
    assert not ScheduledAction.objects.exists()


def test_someone_elses_scheduled_reply_cannot_be_cancelled(
    client: Client, ticket: Ticket, agent: User, manager: User
) -> None:
    action = scheduling.schedule(
        ticket, by=agent, kind="reply", body="Any news?", run_at=timezone.now() + timedelta(hours=1)
    )
    client.force_login(manager)
    assert client.post(reverse("worklist:scheduled-cancel", args=[action.pk])).status_code == 404
    action.refresh_from_db()
    assert action.state == "pending"


def test_bad_input_is_told_and_nothing_is_added(
    client: Client, ticket: Ticket, agent: User, agent_l2: User, triage: SupportGroup
) -> None:
    client.force_login(agent)
    yesterday = (timezone.localdate() - timedelta(days=2)).isoformat()
    response = client.post(
        reverse("worklist:task-add", args=[ticket.pk]), {"title": "Late", "due_on": yesterday}, follow=True
    )
    assert "The due date cannot be in the past." in response.content.decode()
    response = client.post(
        reverse("worklist:task-add", args=[ticket.pk]),
        {"title": "Wrong person", "assignee": agent_l2.pk, "group": triage.pk},
        follow=True,
    )
    assert "is not a member of" in response.content.decode()
    response = client.post(
        reverse("worklist:schedule", args=[ticket.pk]),
        {"kind": "reply", "run_at": "2001-01-01T09:00", "body": "Hi"},
        follow=True,
    )
    assert "Choose a time in the future." in response.content.decode()
    assert not TicketTask.objects.exists() and not ScheduledAction.objects.exists()


# --- the ticket page ------------------------------------------------------------------------------------


def test_an_agent_adds_tasks_ticks_one_off_and_cannot_resolve_before_the_mandatory_one(
    client: Client, ticket: Ticket, agent: User, triage: SupportGroup
) -> None:
    client.force_login(agent)
    add = reverse("worklist:task-add", args=[ticket.pk])
    client.post(add, {"title": "Order a toner", "assignee": agent.pk, "group": triage.pk})
    client.post(add, {"title": "Check the warranty", "mandatory": "on"})
    html = _page(client, ticket)
    assert "Order a toner" in html and "Check the warranty" in html and "1 mandatory task must be done" in html
    response = client.post(
        reverse("agent:ticket-status", args=[ticket.pk]), {"status": "resolved", "version": ticket.version}
    )
    assert "cannot be resolved while a mandatory task is open" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status != "resolved"
    mandatory = TicketTask.objects.get(mandatory=True)
    client.post(reverse("worklist:task-status", args=[mandatory.pk]), {"status": "done", "version": mandatory.version})
    client.post(reverse("agent:ticket-status", args=[ticket.pk]), {"status": "resolved", "version": ticket.version})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    assert "finished the task “Check the warranty”" in _page(client, ticket)


def test_the_edit_page_refuses_a_stale_version(client: Client, ticket: Ticket, agent: User) -> None:
    task = tasks.add_task(ticket, by=agent, title="Call back")
    tasks.update_task(task, by=agent, title="Call back at noon")
    client.force_login(agent)
    response = client.post(
        reverse("worklist:task-edit", args=[task.pk]), {"title": "Mine", "status": "done", "version": 1}
    )
    assert response.status_code == 400 and "Someone changed this task meanwhile" in response.content.decode()
    task.refresh_from_db()
    assert task.title == "Call back at noon"


def test_an_agent_schedules_a_reply_sees_it_and_cancels_it(client: Client, ticket: Ticket, agent: User) -> None:
    agent.work_time_zone = "Europe/Paris"
    agent.save(update_fields=["work_time_zone"])
    client.force_login(agent)
    when = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT09:30")
    client.post(
        reverse("worklist:schedule", args=[ticket.pk]), {"kind": "reply", "run_at": when, "body": "Is it fixed?"}
    )
    action = ScheduledAction.objects.get()
    assert action.time_zone == "Europe/Paris" and action.run_at.astimezone(action.run_at.tzinfo).tzinfo is not None
    html = _page(client, ticket)
    assert "Is it fixed?" in html and "scheduled a reply for" in html
    client.post(reverse("worklist:scheduled-cancel", args=[action.pk]))
    action.refresh_from_db()
    assert action.state == "cancelled"


def test_the_ticket_page_keeps_its_query_count_with_many_tasks(
    client: Client, ticket: Ticket, agent: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    tasks.add_task(ticket, by=agent, title="One", assignee=agent)
    with CaptureQueriesContext(connection) as few:
        client.get(_detail(ticket))
    for i in range(8):
        tasks.add_task(ticket, by=agent, title=f"Task {i}", assignee=agent, mandatory=i % 2 == 0)
        scheduling.schedule(
            ticket, by=agent, kind="reminder", body=f"r{i}", run_at=timezone.now() + timedelta(hours=i + 1)
        )
    with django_assert_max_num_queries(len(few)):
        html = client.get(_detail(ticket)).content.decode()
    assert "Task 7" in html and "r7" in html


# --- my tasks ---------------------------------------------------------------------------------------------


def test_my_tasks_show_on_my_open_tickets_view_with_one_query_more(
    client: Client, requester: User, agent: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    url = reverse("agent:ticket-list") + "?assignee=me"
    tasks.add_task(make_ticket(requester), by=agent, title="First task", assignee=agent)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(6):
        tasks.add_task(make_ticket(requester), by=agent, title=f"Extra {i}", assignee=agent)
    with django_assert_max_num_queries(len(few)):
        html = client.get(url).content.decode()
    assert "My tasks" in html and "First task" in html


def test_the_my_tasks_page_pages_by_keyset_with_constant_queries(
    client: Client, requester: User, agent: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    ticket = make_ticket(requester)
    today = tasks.today_for(agent)
    for i in range(25):
        tasks.add_task(ticket, by=agent, title=f"T{i:02d}", assignee=agent, due_on=today + timedelta(days=i))
    with django_assert_max_num_queries(8):
        first = client.get(reverse("worklist:mine"))
    html = first.content.decode()
    assert "T00" in html and "T19" in html and "T20" not in html
    after = first.context["after"]
    second = client.get(reverse("worklist:mine"), {"after": after}).content.decode()
    assert "T20" in second and "T24" in second and "T19" not in second
    assert client.get(reverse("worklist:mine"), {"after": "nonsense:x"}).status_code == 200


# --- task templates --------------------------------------------------------------------------------------


def test_only_administrators_manage_task_templates(client: Client, agent: User) -> None:
    client.force_login(agent)
    assert client.get(reverse("worklist:templates")).status_code == 404
    assert client.post(reverse("worklist:template-new"), {"name": "X", "title_0": "Y"}).status_code == 404
    assert not TaskTemplate.objects.exists()


def test_an_administrator_writes_a_template_and_an_agent_adds_its_tasks(
    client: Client,
    admin_user: User,
    agent: User,
    ticket: Ticket,
    triage: SupportGroup,
    django_assert_max_num_queries: Any,
) -> None:
    client.force_login(admin_user)
    data = {
        "name": "New starter",
        "is_active": "on",
        "title_0": "Create the account",
        "group_0": triage.pk,
        "days_0": 1,
        "mandatory_0": "on",
        "title_1": "Order a laptop",
    }
    response = client.post(reverse("worklist:template-new"), data)
    assert response.status_code == 302
    template = TaskTemplate.objects.get()
    assert [i.title for i in template.items.all()] == ["Create the account", "Order a laptop"]
    templates.save_template(by=admin_user, name="Leaver", items=[{"title": "Disable the account"}])
    with django_assert_max_num_queries(12):
        listing = client.get(reverse("worklist:templates")).content.decode()
    assert "New starter" in listing and "Disable the account" in listing
    client.force_login(agent)
    client.post(reverse("worklist:template-apply", args=[ticket.pk]), {"template": template.pk})
    assert list(TicketTask.objects.values_list("title", "mandatory")) == [
        ("Create the account", True),
        ("Order a laptop", False),
    ]
