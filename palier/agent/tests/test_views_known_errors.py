"""The known-error page, the suggestions on the ticket page, "Apply the workaround", and the
problem candidates page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.people.models import User
from palier.problems.models import Problem, ProblemIncident, ProblemSettings
from palier.problems.tests.test_known_errors import category, incident, known_error
from palier.tickets.models import Comment, Ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _detail(ticket: Ticket) -> str:
    return reverse("agent:ticket-detail", args=[ticket.pk])


def _apply(ticket: Ticket, problem: Problem) -> str:
    return reverse("known_errors:apply", args=[ticket.pk, problem.pk])


# --- the known-error page --------------------------------------------------------------------------


def test_requesters_do_not_reach_the_known_errors(client: Client, requester: User, agent: User) -> None:
    known_error(agent, "VPN gateway drops")
    client.force_login(requester)
    assert client.get(reverse("known_errors:list"), {"q": "vpn"}, **EN).status_code == 404


def test_agents_search_known_errors_with_highlights(client: Client, agent: User) -> None:
    problem = known_error(agent, "Passerelle VPN instable", root_cause="Fuite mémoire", workaround="Redémarrer.")
    client.force_login(agent)
    page = client.get(reverse("known_errors:list"), {"q": "memoire"}, **EN).content.decode()
    assert problem.reference in page and "<mark>mémoire</mark>" in page
    assert f"/agent/problems/{problem.pk}/" in page
    empty = client.get(reverse("known_errors:list"), {"q": "printer"}, **EN).content.decode()
    assert "No known error matches these words." in empty


# --- suggestions and applying ------------------------------------------------------------------------


def test_ticket_page_suggests_and_applies_the_workaround_once(client: Client, agent: User, requester: User) -> None:
    network = category("Network")
    problem = known_error(agent, "Slow wifi on floor 3", category=network, workaround="Use the wired dock.")
    ticket = incident(requester, "Wifi slow", category=network)
    client.force_login(agent)
    page = client.get(_detail(ticket), **EN).content.decode()
    assert 'id="known-error-suggestions"' in page and problem.reference in page
    assert _apply(ticket, problem) in page

    response = client.post(_apply(ticket, problem), **EN, follow=True)
    body = response.content.decode()
    assert "was sent to the requester" in body
    assert Comment.objects.filter(ticket=ticket, is_internal=False, body="Use the wired dock.").count() == 1
    assert 'id="known-error-suggestions"' not in body  # linked now: nothing more to suggest

    again = client.post(_apply(ticket, problem), **EN, follow=True).content.decode()
    assert "already applied" in again
    assert Comment.objects.filter(ticket=ticket, is_internal=False).count() == 1


def test_requesters_may_not_apply(client: Client, agent: User, requester: User) -> None:
    problem = known_error(agent, "VPN gateway drops")
    ticket = incident(requester, "VPN drops")
    client.force_login(requester)
    assert client.post(_apply(ticket, problem), **EN).status_code == 404
    assert not ProblemIncident.objects.filter(ticket=ticket).exists()
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_apply_needs_post_and_an_existing_problem(client: Client, agent: User, requester: User) -> None:
    problem = known_error(agent, "VPN gateway drops")
    ticket = incident(requester, "VPN drops")
    client.force_login(agent)
    assert client.get(_apply(ticket, problem), **EN).status_code == 405
    missing = reverse("known_errors:apply", args=[ticket.pk, problem.pk + 100])
    assert client.post(missing, **EN).status_code == 404
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_suggestions_add_at_most_two_queries_to_the_ticket_page(client: Client, agent: User, requester: User) -> None:
    network = category("Network")
    ticket = incident(requester, "Wifi slow", "The wifi is slow on floor 3", category=network)
    client.force_login(agent)
    client.get(_detail(ticket), **EN)  # warm the caches
    with CaptureQueriesContext(connection) as without:
        client.get(_detail(ticket), **EN)
    for i in range(4):
        known_error(agent, f"Slow wifi on floor {i}", category=network)
    with CaptureQueriesContext(connection) as with_them:
        page = client.get(_detail(ticket), **EN).content.decode()
    assert page.count('id="known-error-') >= 3
    # the suggestions' query runs either way; the known errors found add nothing
    assert len(with_them) <= len(without) + 1


# --- candidates ------------------------------------------------------------------------------------


def test_candidates_page_is_for_problem_managers(client: Client, agent: User, manager: User) -> None:
    client.force_login(agent)
    assert client.get(reverse("problem_candidates:list"), **EN).status_code == 404
    assert client.post(reverse("problem_candidates:settings"), {"candidate_incidents": 2}, **EN).status_code == 404
    assert ProblemSettings.current().candidate_incidents == 5


def test_manager_creates_a_problem_from_a_candidate(
    client: Client, manager: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    ProblemSettings.objects.update_or_create(pk=1, defaults={"candidate_incidents": 3, "candidate_days": 7})
    network = category("Network")
    made = [incident(requester, f"Wifi down {i}", category=network) for i in range(3)]
    Ticket.objects.filter(pk__in=[t.pk for t in made]).update(created_at=timezone.now() - timedelta(hours=5))
    client.force_login(manager)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("problem_candidates:list"), **EN).content.decode()
    assert f'id="candidate-category-{network.pk}"' in page and made[0].reference in page
    response = client.post(reverse("problem_candidates:create"), {"kind": "category", "key": network.pk}, **EN)
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/agent/problems/{problem.pk}/")
    assert problem.category == network and problem.incident_links.count() == 3
    after = client.get(reverse("problem_candidates:list"), **EN).content.decode()
    assert "No category has repeated or rising incidents." in after


def test_bad_settings_show_the_message_and_change_nothing(client: Client, manager: User) -> None:
    client.force_login(manager)
    response = client.post(
        reverse("problem_candidates:settings"),
        {"candidate_incidents": "1", "candidate_days": "14", "rising_factor": "2"},
        **EN,
    )
    assert response.status_code == 400 and "Enter a whole number from 2 to 500." in response.content.decode()
    assert ProblemSettings.current().candidate_incidents == 5
    client.post(
        reverse("problem_candidates:settings"),
        {"candidate_incidents": "8", "candidate_days": "30", "rising_factor": "3"},
        **EN,
    )
    assert ProblemSettings.current().candidate_incidents == 8


def test_create_from_an_unknown_candidate_changes_nothing(client: Client, manager: User) -> None:
    client.force_login(manager)
    page = client.post(
        reverse("problem_candidates:create"), {"kind": "category", "key": "999999"}, **EN, follow=True
    ).content.decode()
    assert "This candidate does not exist any more." in page
    assert not Problem.objects.exists()
