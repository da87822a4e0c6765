"""API: merge tickets into one, undo a merge, split a message out (attacker first)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Comment, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
Make = Callable[..., ApiClient]


def test_requester_and_stranger_agents_merge_nothing(
    client_for: Make, requester: User, agent: User, agent_l2: User, l2: SupportGroup
) -> None:
    keep, dup = make_ticket(requester), make_ticket(requester)
    assert_problem(client_for(requester).call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk]}), 403)
    hidden = make_ticket(requester, by=agent, group=l2)
    # a ticket the agent cannot see, on either side: 404, nothing merged
    assert_problem(client_for(agent).call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk, hidden.pk]}), 404)
    assert_problem(client_for(agent).call("POST", f"/tickets/{hidden.pk}/merge", {"tickets": [dup.pk]}), 404)
    assert_problem(client_for(None).call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk]}), 401)
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_bad_bodies_are_refused(client_for: Make, requester: User, agent: User) -> None:
    keep, dup = make_ticket(requester), make_ticket(requester)
    api = client_for(agent)
    assert_problem(api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": []}), 422, "tickets")
    assert_problem(api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": ["1"]}), 422)
    assert_problem(api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk], "x": 1}), 422)
    assert_problem(api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [keep.pk]}), 422, "tickets")
    stale = api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk]}, **{"If-Match": '"1-999"'})
    assert stale.status_code == 412
    assert not Ticket.objects.filter(merged_into__isnull=False).exists()


def test_agent_merges_undoes_and_cannot_merge_twice(client_for: Make, requester: User, agent: User) -> None:
    keep, dup = make_ticket(requester), make_ticket(requester)
    api = client_for(agent)
    merged = api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk]})
    assert merged.status_code == 200, merged.content
    assert merged.json()["id"] == keep.pk
    assert Ticket.objects.get(pk=dup.pk).merged_into_id == keep.pk
    again = api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [dup.pk]})
    assert_problem(again, 409)
    cycle = api.call("POST", f"/tickets/{dup.pk}/merge", {"tickets": [keep.pk]})
    assert_problem(cycle, 409)
    undone = api.call("POST", f"/tickets/{dup.pk}/unmerge")
    assert undone.status_code == 200, undone.content
    assert undone.json()["status"] != "closed"
    assert_problem(api.call("POST", f"/tickets/{dup.pk}/unmerge"), 409)


def test_split(client_for: Make, requester: User, agent: User, agent_l2: User) -> None:
    ticket = make_ticket(requester)
    other = services.comment_on_ticket(ticket, by=requester, body="Et aussi le Wi-Fi")
    assert_problem(client_for(requester).call("POST", f"/tickets/{ticket.pk}/split", {"comment": other.pk}), 403)
    assert_problem(client_for(agent_l2).call("POST", f"/tickets/{ticket.pk}/split", {"comment": other.pk}), 404)
    elsewhere = make_ticket(requester)
    assert_problem(
        client_for(agent).call("POST", f"/tickets/{elsewhere.pk}/split", {"comment": other.pk}), 422, "comment"
    )
    done = client_for(agent).call("POST", f"/tickets/{ticket.pk}/split", {"comment": other.pk, "subject": "Wi-Fi"})
    assert done.status_code == 201, done.content
    assert done.json()["subject"] == "Wi-Fi"
    assert Comment.objects.get(pk=other.pk).ticket_id == done.json()["id"]


def test_merge_query_count_does_not_grow_with_the_page(
    client_for: Make, requester: User, agent: User, django_assert_max_num_queries: object
) -> None:
    keep = make_ticket(requester)
    dups = [make_ticket(requester, subject=f"Doublon {i}") for i in range(10)]
    api = client_for(agent)
    api.call("GET", f"/tickets/{keep.pk}")
    with django_assert_max_num_queries(60 + 10 * 7):  # type: ignore[operator]
        response = api.call("POST", f"/tickets/{keep.pk}/merge", {"tickets": [d.pk for d in dups]})
    assert response.status_code == 200, response.content
