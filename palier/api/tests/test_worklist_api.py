"""API: a ticket's tasks (list, add, change with If-Match, add a template's), its scheduled
follow-ups (list, schedule, cancel) and task templates; attackers first, problems as answers,
Idempotency-Key retries, query counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket
from palier.worklist.models import ScheduledAction, TaskTemplate, TicketTask
from palier.worklist.services import tasks, templates


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    """These tests read the English messages: people without a language get English here (French,
    the product's default, is checked by the catalogs' tests)."""
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


pytestmark = pytest.mark.django_db
Make = Callable[..., ApiClient]


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester)


def _later(hours: int = 2) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def test_refusals_first(
    client_for: Make, agent: User, agent_l2: User, requester: User, ticket: Ticket, triage: SupportGroup
) -> None:
    path = f"/tickets/{ticket.pk}/tasks"
    assert_problem(client_for(requester).call("POST", path, {"title": "x"}), 403)
    assert_problem(client_for(requester).call("GET", path), 403)
    assert_problem(client_for(requester).call("GET", f"/tickets/{ticket.pk}/scheduled"), 403)
    assert_problem(client_for(agent_l2).call("POST", path, {"title": "x"}), 404)
    assert_problem(
        client_for(agent_l2).call(
            "POST", f"/tickets/{ticket.pk}/scheduled", {"kind": "reply", "run_at": _later(), "body": "x"}
        ),
        404,
    )
    api = client_for(agent)
    yesterday = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert_problem(api.call("POST", path, {"title": "Late", "due_on": yesterday}), 422, "due_on")
    assert_problem(api.call("POST", path, {"title": "x", "assignee": agent_l2.pk, "group": triage.pk}), 422, "assignee")
    assert_problem(api.call("POST", path, {"title": "x", "assignee": requester.pk}), 422, "assignee")
    assert_problem(api.call("POST", path, {"title": "x", "assignee": 999999}), 422, "assignee")
    assert_problem(api.call("POST", path, {"title": "x", "mandatory": "yes"}), 422, "mandatory")  # no coercion
    assert_problem(api.call("POST", path, {"title": "x", "ticket": 5}), 422)  # unknown field
    past = (timezone.now() - timedelta(minutes=5)).isoformat()
    body = {"kind": "reply", "run_at": past, "body": "Hi"}
    assert_problem(api.call("POST", f"/tickets/{ticket.pk}/scheduled", body), 422, "run_at")
    assert not TicketTask.objects.exists() and not ScheduledAction.objects.exists()
    assert_problem(client_for(agent).call("POST", "/task-templates", {"name": "x", "items": [{"title": "y"}]}), 403)
    assert not TaskTemplate.objects.exists()


def test_a_task_of_another_ticket_is_not_reached_through_this_one(
    client_for: Make, agent: User, requester: User, ticket: Ticket
) -> None:
    other = make_ticket(requester)
    task = tasks.add_task(other, by=agent, title="Elsewhere")
    api = client_for(agent)
    assert_problem(api.call("PATCH", f"/tickets/{ticket.pk}/tasks/{task.pk}", {"status": "done", "version": 1}), 403)
    task.refresh_from_db()
    assert task.status == "open"


def test_add_change_with_if_match_and_the_resolve_guard(client_for: Make, agent: User, ticket: Ticket) -> None:
    api = client_for(agent)
    created = api.call(
        "POST", f"/tickets/{ticket.pk}/tasks", {"title": "Restore", "mandatory": True, "assignee": agent.pk}
    )
    assert created.status_code == 201
    task = created.json()
    assert task["mandatory"] and task["assignee"]["id"] == agent.pk and created["ETag"] == f'"{task["id"]}-1"'
    one = f"/tickets/{ticket.pk}/tasks/{task['id']}"
    assert_problem(api.call("PATCH", one, {"status": "done"}), 428, "version")
    resolve = api.call("POST", f"/tickets/{ticket.pk}/transitions", {"status": "resolved"})
    assert resolve.status_code == 409 and "mandatory" in resolve.json()["detail"]
    changed = api.call("PATCH", one, {"title": "Restore the share"}, **{"If-Match": created["ETag"]})
    assert changed.status_code == 200 and changed["ETag"] == f'"{task["id"]}-2"'
    assert_problem(api.call("PATCH", one, {"status": "done"}, **{"If-Match": created["ETag"]}), 412)
    done = api.call("PATCH", one, {"status": "done", "version": 2})
    assert done.json()["status"] == "done" and done.json()["done_at"]
    listed = api.call("GET", f"/tickets/{ticket.pk}/tasks").json()
    assert [(t["title"], t["status"]) for t in listed] == [("Restore the share", "done")]


def test_an_idempotency_key_makes_a_retry_return_the_first_task(client_for: Make, agent: User, ticket: Ticket) -> None:
    api = client_for(agent)
    path = f"/tickets/{ticket.pk}/tasks"
    first = api.call("POST", path, {"title": "Once"}, **{"Idempotency-Key": "k-1"})
    again = api.call("POST", path, {"title": "Once"}, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    assert_problem(api.call("POST", path, {"title": "Other"}, **{"Idempotency-Key": "k-1"}), 422, "Idempotency-Key")
    body = {"kind": "reminder", "run_at": _later(), "body": "Check"}
    s1 = api.call("POST", f"/tickets/{ticket.pk}/scheduled", body, **{"Idempotency-Key": "k-2"})
    s2 = api.call("POST", f"/tickets/{ticket.pk}/scheduled", body, **{"Idempotency-Key": "k-2"})
    assert (s1.status_code, s2.status_code) == (201, 200)
    assert TicketTask.objects.count() == 1 and ScheduledAction.objects.count() == 1


def test_schedule_in_my_time_zone_list_and_cancel(client_for: Make, agent: User, ticket: Ticket) -> None:
    agent.work_time_zone = "Asia/Tokyo"
    agent.save(update_fields=["work_time_zone"])
    api = client_for(agent)
    local = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT10:00:00")  # no offset: Tokyo time
    made = api.call("POST", f"/tickets/{ticket.pk}/scheduled", {"kind": "reply", "run_at": local, "body": "News?"})
    assert made.status_code == 201, made.content
    data = made.json()
    run_at = datetime.fromisoformat(data["run_at"].replace("Z", "+00:00"))
    assert data["time_zone"] == "Asia/Tokyo" and run_at.astimezone(UTC).hour == 1  # 10:00 in Tokyo
    listed = api.call("GET", f"/tickets/{ticket.pk}/scheduled").json()
    assert [s["id"] for s in listed] == [data["id"]]
    cancelled = api.call("POST", f"/tickets/{ticket.pk}/scheduled/{data['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"
    assert_problem(api.call("POST", f"/tickets/{ticket.pk}/scheduled/{data['id']}/cancel"), 409)


def test_templates_listed_and_added_with_few_queries(
    client_for: Make,
    agent: User,
    admin_user: User,
    ticket: Ticket,
    triage: SupportGroup,
    django_assert_max_num_queries: Any,
) -> None:
    made = client_for(admin_user).call(
        "POST",
        "/task-templates",
        {"name": "Laptop", "items": [{"title": "Image", "group": triage.pk, "mandatory": True}]},
    )
    assert made.status_code == 201, made.content
    for i in range(5):
        templates.save_template(by=admin_user, name=f"T{i}", items=[{"title": f"a{i}"}, {"title": f"b{i}"}])
    api = client_for(agent)
    with django_assert_max_num_queries(8):
        listed = api.call("GET", "/task-templates").json()
    assert len(listed) == 6 and listed[0]["items"][0]["group"] == triage.pk
    added = api.call("POST", f"/tickets/{ticket.pk}/tasks/from-template", {"template": made.json()["id"]})
    assert added.status_code == 201 and [t["title"] for t in added.json()] == ["Image"]
    for i in range(10):
        tasks.add_task(ticket, by=agent, title=f"more {i}", assignee=agent)
    with django_assert_max_num_queries(8):
        assert len(api.call("GET", f"/tickets/{ticket.pk}/tasks").json()) == 11
