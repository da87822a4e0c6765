"""An agent who is the requester of a ticket handled by another group (an HR or security case
about them) is a requester there: they read no internal note, by page, API or search, and cannot
act on it as an agent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.people.models import SupportGroup, User
from palier.tickets import selectors, services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

SECRET = "enquête disciplinaire confidentielle"


def client_for(user: User) -> ApiClient:
    client = ApiClient()
    client.force_login(user)
    return client


@pytest.fixture
def hr_case(agent: User, agent_l2: User, l2: SupportGroup) -> Ticket:
    """A case about ``agent`` (in triage), opened in their name and handled by L2."""
    ticket = make_ticket(agent, by=agent_l2, subject="Dossier RH", group=l2, assignee=agent_l2)
    services.comment_on_ticket(ticket, by=agent_l2, body=f"Note: {SECRET}", internal=True)
    return Ticket.objects.get(pk=ticket.pk)


def test_the_agent_reads_no_internal_note_of_their_own_case(hr_case, agent):
    assert SECRET not in str([c.body for c in selectors.comments_visible(agent, hr_case)])
    api = client_for(agent)
    body = api.call("GET", f"/tickets/{hr_case.pk}/comments").json()
    assert all(SECRET not in item["body"] for item in body["items"])
    assert all(not item["internal"] for item in api.call("GET", f"/tickets/{hr_case.pk}/history").json()["items"])
    page = client_for(agent).get(reverse("portal:ticket-detail", args=[hr_case.pk]))
    assert SECRET not in page.content.decode()


def test_the_agent_cannot_find_their_case_by_the_words_of_an_internal_note(hr_case, agent, agent_l2):
    found = selectors.ticket_page(agent, filters=selectors.TicketFilters(q="disciplinaire"), limit=10)
    assert list(found.items) == []
    handler = selectors.ticket_page(agent_l2, filters=selectors.TicketFilters(q="disciplinaire"), limit=10)
    assert [t.pk for t in handler.items] == [hr_case.pk]


def test_the_agent_cannot_act_on_their_case_as_an_agent(hr_case, agent):
    with pytest.raises(PermissionDenied):
        services.comment_on_ticket(hr_case, by=agent, body="je lis tout", internal=True)
    with pytest.raises(PermissionDenied):
        services.update_ticket(hr_case, by=agent, expected_version=None, changes={"assignee": agent})
    with pytest.raises(IllegalTransition):  # a requester may not resolve; they may only cancel
        services.transition_ticket(hr_case, to=Ticket.Status.RESOLVED, by=agent)
    api = client_for(agent)
    assert_problem(api.call("POST", f"/tickets/{hr_case.pk}/comments", {"body": "x", "internal": True}), 403)
    assert_problem(api.call("PATCH", f"/tickets/{hr_case.pk}", {"subject": "classé", "version": hr_case.version}), 403)
    hr_case.refresh_from_db()
    assert hr_case.subject == "Dossier RH" and hr_case.assignee_id != agent.pk


def test_the_agent_page_of_their_own_case_sends_them_to_the_portal(hr_case, agent):
    response = client_for(agent).get(reverse("agent:ticket-detail", args=[hr_case.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket-detail", args=[hr_case.pk])


def test_an_agent_of_the_handling_group_keeps_the_agent_rules_on_their_own_ticket(agent_l2, l2):
    ticket = make_ticket(agent_l2, by=agent_l2, group=l2)
    services.comment_on_ticket(ticket, by=agent_l2, body="note", internal=True)
    assert [c.is_internal for c in selectors.comments_visible(agent_l2, ticket)] == [True]


def test_the_agent_reads_no_sla_clock_of_their_case_nor_escalates_it(hr_case, agent):
    api = client_for(agent)
    sla = api.call("GET", f"/tickets/{hr_case.pk}/sla").json()
    assert (sla["clocks"], sla["timeline"]) == ([], [])
    assert_problem(api.call("POST", f"/tickets/{hr_case.pk}/escalate", {"reason": "je monte"}), 403)
