"""The agent ticket page and the queue run the same number of queries whatever the ticket holds
and however many rows the queue shows: the views read everything with a fixed number of queries
and the templates (and their tags) read nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets import services
from palier.tickets.tests.builders import make_ticket
from palier.tickets.tests.page_builders import catalog_ticket, fill_ticket

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_ticket_page_query_count_does_not_grow_with_the_ticket(
    client: Client, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    small = fill_ticket(catalog_ticket(requester, n=1), agent=admin_user, requester=requester, n=1)
    large = fill_ticket(catalog_ticket(requester, n=6), agent=admin_user, requester=requester, n=6)
    client.force_login(admin_user)
    expected = _queries(client, reverse("agent:ticket-detail", args=[small.pk]))
    with django_assert_num_queries(expected):
        response = client.get(reverse("agent:ticket-detail", args=[large.pk]))
    html = response.content.decode()
    assert "Approver 5" in html and "answer 5" in html and "message 5" in html and "tag5" in html
    assert "Watcher 5" in html and "Deliver" in html and "f5.txt" in html
    print(f"agent ticket page: {expected} queries")


def test_ticket_page_htmx_partials_keep_their_count(
    client: Client, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    small = fill_ticket(make_ticket(requester), agent=admin_user, requester=requester, n=1)
    large = fill_ticket(make_ticket(requester), agent=admin_user, requester=requester, n=6)
    client.force_login(admin_user)
    htmx = {"HX-Request": "true"}
    with CaptureQueriesContext(connection) as few:
        client.post(reverse("agent:ticket-edit", args=[small.pk, "kind"]), {"kind": "request"}, headers=htmx)
    with django_assert_num_queries(len(few)):
        response = client.post(reverse("agent:ticket-edit", args=[large.pk, "kind"]), {"kind": "request"}, headers=htmx)
    assert response.status_code == 200 and "message 5" in response.content.decode()


def test_queue_query_count_does_not_grow_with_the_rows(
    client: Client, agent: User, requester: User, triage: SupportGroup, django_assert_num_queries: Any
) -> None:
    client.force_login(agent)
    fill_ticket(make_ticket(requester), agent=agent, requester=requester, n=1)
    services.save_filter(user=agent, name="Mine", query="assignee=me")
    expected = _queries(client, reverse("agent:ticket-list"))
    colleague = people.create_user(email="colleague@desk.test", full_name="Colleague", role=User.Role.AGENT)
    people.add_group_member(triage, user=colleague)
    for i in range(20):
        ticket = make_ticket(requester, subject=f"Row {i}", impact="high" if i % 2 else "low")
        assignee = (agent, colleague, None)[i % 3]
        if assignee is not None:
            services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": assignee})
        if i % 4 == 0:
            fill_ticket(ticket, agent=agent, requester=requester, n=2)
    services.save_filter(user=agent, name="Other", query="status=all")
    with django_assert_num_queries(expected):
        response = client.get(reverse("agent:ticket-list"))
    assert len(response.context["table"].page.items) == settings.PALIER_PAGE_SIZE  # a full page
    with django_assert_num_queries(expected):
        client.get(reverse("agent:ticket-list"), {"sort": "-sla"})
    print(f"agent queue: {expected} queries")


def test_ticket_page_templates_read_nothing(
    client: Client, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    ticket = fill_ticket(catalog_ticket(requester, n=2), agent=admin_user, requester=requester, n=2)
    client.force_login(admin_user)
    response = client.get(reverse("agent:ticket-detail", args=[ticket.pk]))
    context = response.context[0].flatten()  # the page template's own context
    with django_assert_num_queries(0):
        html = render_to_string(response.templates[0].name, context)
    assert "Approver 1" in html and "what was said before" in html


def test_an_incidents_page_templates_read_nothing_with_its_problem_pieces(
    client: Client, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    """The known-error suggestions, the problem panel and the changes panel are read by the view."""
    from palier.problems import services as problems
    from palier.problems.models import Problem

    ticket = fill_ticket(
        make_ticket(requester, subject="VPN gateway drops the tunnel"), agent=admin_user, requester=requester, n=2
    )
    known = problems.create_problem(
        by=admin_user, title="VPN gateway drops the tunnel", root_cause="Firmware leak", workaround="Reconnect twice"
    )
    problems.transition_problem(known, to=Problem.Status.KNOWN_ERROR, by=admin_user)
    client.force_login(admin_user)
    response = client.get(reverse("agent:ticket-detail", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="en")
    context = response.context[0].flatten()
    with django_assert_num_queries(0):
        html = render_to_string(response.templates[0].name, context)
    assert known.reference in html and "Reconnect twice" in html  # the suggestion is on the page


def test_queue_templates_read_nothing(
    client: Client, agent: User, requester: User, django_assert_num_queries: Any
) -> None:
    for i in range(3):
        fill_ticket(make_ticket(requester, subject=f"Row {i}"), agent=agent, requester=requester, n=1)
    services.save_filter(user=agent, name="Mine", query="assignee=me")
    client.force_login(agent)
    response = client.get(reverse("agent:ticket-list"))
    context = response.context[0].flatten()  # the page template's own context
    with django_assert_num_queries(0):
        html = render_to_string(response.templates[0].name, context)
    assert "Row 2" in html and "Mine" in html
