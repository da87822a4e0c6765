"""API: a ticket's time entries (list, log) and one entry (edit, delete), refusals as problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket
from palier.timelog.models import TimeEntry

pytestmark = pytest.mark.django_db
Make = Callable[..., ApiClient]


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester)


def test_refusals_first(client_for: Make, agent: User, agent_l2: User, requester: User, ticket: Ticket) -> None:
    path = f"/tickets/{ticket.pk}/time"
    assert_problem(client_for(requester).call("POST", path, {"minutes": 10}), 403)
    assert_problem(client_for(requester).call("GET", path), 403)
    assert_problem(client_for(agent_l2).call("POST", path, {"minutes": 10}), 404)
    api = client_for(agent)
    for minutes in (-5, 0, 3000):
        assert_problem(api.call("POST", path, {"minutes": minutes}), 422, "minutes")
    assert_problem(api.call("POST", path, {"minutes": "10"}), 422, "minutes")  # no coercion
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert_problem(api.call("POST", path, {"minutes": 10, "work_date": future}), 422, "work_date")
    assert_problem(api.call("POST", path, {"minutes": 10, "work_date": "yesterday"}), 422, "work_date")
    assert api.call("POST", path, {"minutes": 1000}).status_code == 201
    assert_problem(api.call("POST", path, {"minutes": 500}), 422, "minutes")  # a day past 24 hours
    assert TimeEntry.objects.count() == 1


def test_log_list_edit_delete(client_for: Make, agent: User, ticket: Ticket, triage: SupportGroup) -> None:
    api = client_for(agent)
    day = (timezone.localdate() - timedelta(days=2)).isoformat()
    created = api.call("POST", f"/tickets/{ticket.pk}/time", {"minutes": 30, "work_date": day, "note": "cabling"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["minutes"], body["work_date"], body["note"], body["source"]) == (30, day, "cabling", "manual")
    assert body["author"]["id"] == agent.pk and body["ticket"] == ticket.pk and body["editable_until"]
    api.call("POST", f"/tickets/{ticket.pk}/time", {"minutes": 15})
    listing = api.call("GET", f"/tickets/{ticket.pk}/time").json()
    assert listing["total_minutes"] == 45 and [e["minutes"] for e in listing["entries"]] == [30, 15]

    colleague = people.create_user(email="colleague@desk.test", full_name="Colleague", role=User.Role.AGENT)
    people.add_group_member(triage, user=colleague)
    other = client_for(colleague)
    assert_problem(other.call("PATCH", f"/time/{body['id']}", {"minutes": 1}), 403)
    assert_problem(other.call("DELETE", f"/time/{body['id']}"), 403)

    changed = api.call("PATCH", f"/time/{body['id']}", {"minutes": 40, "note": "more cabling"})
    assert changed.status_code == 200 and changed.json()["minutes"] == 40
    assert api.call("DELETE", f"/time/{body['id']}").status_code == 204
    assert_problem(api.call("PATCH", f"/time/{body['id']}", {"minutes": 5}), 404)
    kinds = TicketEvent.objects.filter(ticket=ticket, kind__startswith="time_").values_list("kind", flat=True)
    assert sorted(kinds) == ["time_changed", "time_changed", "time_logged", "time_logged"]


def test_an_entry_of_a_ticket_you_cannot_see_is_absent(
    client_for: Make, agent: User, agent_l2: User, ticket: Ticket
) -> None:
    entry_id = client_for(agent).call("POST", f"/tickets/{ticket.pk}/time", {"minutes": 5}).json()["id"]
    assert_problem(client_for(agent_l2).call("PATCH", f"/time/{entry_id}", {"minutes": 1}), 404)
    assert_problem(client_for(agent_l2).call("DELETE", f"/time/{entry_id}"), 404)


def test_the_openapi_document_lists_the_time_endpoints(client_for: Make, agent: User) -> None:
    paths = client_for(agent).call("GET", "/openapi.json").json()["paths"]
    assert "/api/v1/tickets/{ticket_id}/time" in paths and "/api/v1/time/{entry_id}" in paths
