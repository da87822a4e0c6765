"""Client tests for the agents' survey pages: the answers list and the organisations' opt-out."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people.models import SupportGroup, User
from palier.surveys import services
from palier.surveys.tests.helpers import resolved_ticket
from palier.tickets import services as tickets
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_answers_page_lists_and_averages_by_group(
    client: Client, requester: User, agent: User, agent_l2: User, l2: SupportGroup, admin_user: User
) -> None:
    for score in (5, 3):
        ticket = resolved_ticket(requester, agent)
        services.answer_survey(ticket=ticket, requester=requester, score=score)
    other = make_ticket(requester, by=agent_l2, group=l2, subject="Switch down")
    other = tickets.transition_ticket(other, to="resolved", by=agent_l2)
    services.answer_survey(ticket=other, requester=requester, score=1, comment="Slow")
    client.force_login(admin_user)
    page = client.get(reverse("surveys:responses"), **EN).content.decode()
    assert "Average 3.00 / 5 from 3 answers." in page and "Slow" in page
    page = client.get(reverse("surveys:responses"), {"group": l2.pk, "period": "7"}, **EN).content.decode()
    assert "Average 1.00 / 5 from 1 answer." in page and "Switch down" in page
    client.force_login(agent)  # sees only the triage group's tickets
    page = client.get(reverse("surveys:responses"), **EN).content.decode()
    assert "from 2 answers" in page and "Switch down" not in page
    client.force_login(requester)
    assert client.get(reverse("surveys:responses")).status_code == 404


def test_answers_page_runs_a_constant_number_of_queries(
    client: Client, requester: User, agent: User, admin_user: User, django_assert_max_num_queries: Any
) -> None:
    ticket = resolved_ticket(requester, agent)
    services.answer_survey(ticket=ticket, requester=requester, score=4)
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("surveys:responses"))
    for score in (1, 2, 3, 4, 5, 5, 4, 3):
        ticket = resolved_ticket(requester, agent)
        services.answer_survey(ticket=ticket, requester=requester, score=score, comment=f"c{score}")
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("surveys:responses"))
    assert response.content.decode().count("data-response=") == 9


def test_admin_turns_surveys_off_for_an_organisation(
    client: Client, requester: User, agent: User, admin_user: User
) -> None:
    organisation = requester.organisation
    assert organisation is not None
    client.force_login(agent)
    assert client.get(reverse("surveys:settings")).status_code == 404
    url = reverse("surveys:organisation-opt-out", args=[organisation.pk])
    assert client.post(url, {"opted_out": "1"}).status_code == 404
    client.force_login(admin_user)
    assert client.post(url, {"opted_out": "1"}).status_code == 302
    page = client.get(reverse("surveys:settings"), **EN).content.decode()
    assert f"Ask {organisation.name} again" in page
    ticket = resolved_ticket(requester, agent)
    client.force_login(requester)
    page = client.get(reverse("portal:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert "How did we do?" not in page
