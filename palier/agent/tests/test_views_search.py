"""Client tests for the global search of the agent header."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
URL = "agent:search"


def test_a_ticket_number_jumps_to_the_ticket(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester, kind="request")
    client.force_login(agent)
    for q in (ticket.reference, f"  {ticket.reference.lower()} "):
        response = client.get(reverse(URL), {"q": q})
        assert response.status_code == 302
        assert response.url == reverse("agent:ticket-detail", args=[ticket.pk])


def test_a_number_i_may_not_see_does_not_jump(
    client: Client, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    ticket = make_ticket(requester)  # triage group
    client.force_login(agent_l2)
    response = client.get(reverse(URL), {"q": ticket.reference})
    assert response.status_code == 200
    assert f"No ticket {ticket.reference} that you can see." in response.content.decode()


def test_text_finds_subjects_comments_and_people(
    client: Client, agent: User, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    by_subject = make_ticket(requester, subject="Imprimante bloquée")
    by_comment = make_ticket(requester, subject="Autre chose")
    services.comment_on_ticket(by_comment, by=agent, body="Voir l'imprimante du 3e", internal=True)
    make_ticket(requester, subject="Imprimante réseau L2", group=l2, by=agent_l2)
    client.force_login(agent)
    response = client.get(reverse(URL), {"q": "imprimante"})
    found = {t.pk for t in response.context["page"].items}
    assert found == {by_subject.pk, by_comment.pk}
    assert "Imprimante réseau L2" not in response.content.decode()
    people = client.get(reverse(URL), {"q": "alice"}).context["people"]
    assert [p.email for p in people] == ["alice@acme.test"]
    people = client.get(reverse(URL), {"q": "acme.test bob"}).context["people"]
    assert people == []


def test_search_is_for_agents(client: Client, requester: User) -> None:
    client.force_login(requester)
    assert client.get(reverse(URL), {"q": "x"}).status_code == 404


def test_search_runs_a_constant_number_of_queries(
    client: Client, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    make_ticket(requester, subject="Imprimante 0")
    client.force_login(agent)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(URL), {"q": "imprimante"})
    for i in range(15):
        make_ticket(requester, subject=f"Imprimante {i + 1}")
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse(URL), {"q": "imprimante"})
    assert len(response.context["page"].items) == 16
    print(f"search page: {len(few)} queries")
