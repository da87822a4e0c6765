"""Client tests for "Log a call": an agent opens a ticket on behalf of a caller."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Ticket, TimeEntry
from palier.tickets.services.intake import open_ticket_from_call

pytestmark = pytest.mark.django_db
URL = "agent:call-new"
HTMX = {"HX-Request": "true"}


def test_find_the_caller_without_javascript(client: Client, agent: User, requester: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    gone = people.create_user(email="gone@acme.test", full_name="Alice Gone")
    people.update_user(gone, by=None, is_active=False)
    client.force_login(agent)
    response = client.get(reverse(URL), {"caller_q": "alice", "subject": "Typed already"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="caller-{requester.pk}"' in html and "gone@acme.test" not in html
    assert 'value="Typed already"' in html and "This field is required" not in html


def test_caller_search_partial(client: Client, agent: User, requester: User) -> None:
    client.force_login(agent)
    html = client.get(reverse("agent:call-callers"), {"caller_q": "acme"}, headers=HTMX).content.decode()
    assert "<html" not in html and 'name="caller"' in html and "alice@acme.test" in html


def test_log_a_call_opens_a_phone_ticket_for_the_caller(client: Client, agent: User, requester: User) -> None:
    client.force_login(agent)
    data = {
        "caller": requester.pk,
        "kind": "incident",
        "subject": "Écran noir",
        "description": "Alice appelle : l'écran reste noir.",
        "impact": "medium",
        "urgency": "high",
        "minutes": "12",
    }
    response = client.post(reverse(URL), data)
    ticket = Ticket.objects.get()
    assert response["Location"] == reverse("agent:ticket-detail", args=[ticket.pk])
    assert (ticket.requester, ticket.created_by, ticket.channel) == (requester, agent, "phone")
    assert ticket.priority == 2
    entry = TimeEntry.objects.get()
    assert (entry.ticket, entry.user, entry.minutes, entry.source) == (ticket, agent, 12, "call")
    event = ticket.events.get(kind="call")
    assert (event.actor, event.data, event.is_internal) == (agent, {"minutes": 12}, True)
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<dd id="time-spent">12 min</dd>' in page
    assert "logged a phone call of 12 min" in page


@pytest.mark.parametrize("minutes", ["", "0", "601", "abc"])
def test_call_duration_is_required_and_bounded(client: Client, agent: User, requester: User, minutes: str) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(agent)
    data = {"caller": requester.pk, "kind": "incident", "subject": "x", "description": "y", "impact": "low",
            "urgency": "low", "minutes": minutes}  # fmt: skip
    response = client.post(reverse(URL), data)
    assert response.status_code == 400
    errors = response.context["form"].errors["minutes"]
    assert errors in (["How long was the call? Between 1 and 600 minutes."], ["Enter a whole number."])
    assert not Ticket.objects.exists() and not TimeEntry.objects.exists()


def test_call_service_refuses_a_bad_duration_and_opens_nothing(agent: User, requester: User) -> None:
    with pytest.raises(ValidationError) as refused:
        open_ticket_from_call(caller=requester, by=agent, minutes=601, subject="x", description="y")
    assert refused.value.message_dict == {"minutes": ["Between 1 and 600 minutes."]}
    assert not Ticket.objects.exists()


def test_log_a_call_needs_a_caller(client: Client, agent: User) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(agent)
    data = {"kind": "incident", "subject": "x", "description": "y", "impact": "low", "urgency": "low"}
    response = client.post(reverse(URL), data)
    assert response.status_code == 400
    assert "Find and choose the caller first." in response.content.decode()
    assert not Ticket.objects.exists()


def test_log_a_call_is_for_agents(client: Client, requester: User, requester_b: User) -> None:
    client.force_login(requester)
    assert client.get(reverse(URL)).status_code == 404
    assert client.post(reverse(URL), {"caller": requester_b.pk, "subject": "x"}).status_code == 404
