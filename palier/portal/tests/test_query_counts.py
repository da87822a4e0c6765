"""The portal request page runs the same number of queries whatever the request holds: the view
reads everything with a fixed number of queries and the templates (and their tags) read nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.people.models import User
from palier.tickets.tests.page_builders import catalog_ticket, fill_ticket

pytestmark = pytest.mark.django_db


def test_request_page_query_count_does_not_grow_with_the_request(
    client: Client, agent: User, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    small = fill_ticket(catalog_ticket(requester, n=1), agent=admin_user, requester=requester, n=1, internal=False)
    large = fill_ticket(catalog_ticket(requester, n=6), agent=admin_user, requester=requester, n=6, internal=False)
    client.force_login(requester)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("portal:ticket-detail", args=[small.pk])).status_code == 200
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("portal:ticket-detail", args=[large.pk]))
    html = response.content.decode()
    assert "Approver 5" in html and "answer 5" in html and "message 5" in html and "f5.txt" in html
    print(f"portal request page: {len(few)} queries")


def test_request_page_templates_read_nothing(
    client: Client, admin_user: User, requester: User, django_assert_num_queries: Any
) -> None:
    ticket = fill_ticket(catalog_ticket(requester, n=2), agent=admin_user, requester=requester, n=2, internal=False)
    client.force_login(requester)
    response = client.get(reverse("portal:ticket-detail", args=[ticket.pk]))
    context = response.context[0].flatten()  # the page template's own context
    with django_assert_num_queries(0):
        html = render_to_string(response.templates[0].name, context)
    assert "Approver 1" in html and "what was said before" in html


@pytest.mark.parametrize("page", ["portal:home", "portal:ticket-list"])
def test_portal_home_and_my_requests_run_a_fixed_small_number_of_queries(
    page: str, client: Client, requester: User, django_assert_num_queries: Any
) -> None:
    """The pages a requester opens most: session, user, one page of requests (related rows joined),
    whatever the number of requests; the top bar reads nothing."""
    from palier.tickets.tests.builders import make_ticket

    make_ticket(requester)
    client.force_login(requester)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(page)).status_code == 200
    assert len(few) <= 6, [q["sql"][:120] for q in few.captured_queries]
    for n in range(30):
        make_ticket(requester, subject=f"Demande {n}")
    with django_assert_num_queries(len(few)):
        response = client.get(reverse(page))
    assert "Demande 29" in response.content.decode()
    print(f"{page}: {len(few)} queries")
