"""The portal's known outages: on the home page, an outage's page without internal notes,
"I am affected too" and the emails, and the new-request page's "known outage" panel."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import User
from palier.problems import services
from palier.problems.models import MajorIncident, MajorIncidentSubscriber
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _major(manager: User, requester: User, headline: str = "Messagerie indisponible à Lyon") -> MajorIncident:
    ticket = tickets.open_ticket(by=requester, requester=requester, subject="Mail", description="Down")
    return services.declare_major(ticket, by=manager, headline=headline, status_note="The relay is being restarted.")


def test_the_home_page_shows_the_ongoing_outage_in_few_queries(
    manager: User, requester: User, outsider: User, django_assert_max_num_queries: Any
) -> None:
    major = _major(manager, requester)
    client = _client(outsider)
    client.get(reverse("portal:home"))  # warm the session and caches
    with django_assert_max_num_queries(12):
        page = client.get(reverse("portal:home"))
    content = page.content.decode()
    assert "Known outage: Messagerie indisponible à Lyon" in content
    assert "The relay is being restarted." in content
    assert reverse("outages:detail", args=[major.pk]) in content
    services.resolve_major(major, by=manager, message="Back")
    assert "Known outage" not in client.get(reverse("portal:home")).content.decode()
    over = client.get(reverse("outages:detail", args=[major.pk])).content.decode()
    assert "Outage over: Messagerie" in over and "I am affected too" not in over


def test_the_outage_page_shows_portal_updates_never_internal_notes_nor_the_ticket(
    agent: User, manager: User, requester: User, outsider: User
) -> None:
    major = _major(manager, requester)
    services.publish_update(major, by=manager, message="Half the mailboxes are back.", email=False)
    services.publish_update(
        major, by=agent, message="Vendor case 4411 opened", portal=False, email=False, internal=True
    )
    page = _client(outsider).get(reverse("outages:detail", args=[major.pk]))
    content = page.content.decode()
    assert page.status_code == 200 and "Half the mailboxes are back." in content
    assert "Vendor case 4411" not in content
    assert major.ticket.reference not in content


def test_an_unpublished_outage_is_absent_for_requesters(manager: User, requester: User) -> None:
    major = _major(manager, requester)
    MajorIncident.objects.filter(pk=major.pk).update(published=False)
    assert _client(requester).get(reverse("outages:detail", args=[major.pk])).status_code == 404
    assert "Known outage" not in _client(requester).get(reverse("portal:home")).content.decode()


def test_i_am_affected_too_subscribes_without_a_ticket_and_unsubscribe_stops(
    manager: User, requester: User, outsider: User
) -> None:
    major = _major(manager, requester)
    client = _client(outsider)
    before = Ticket.objects.count()
    response = client.post(reverse("outages:affected", args=[major.pk]), follow=True)
    assert b"we count you among the people affected" in response.content
    row = MajorIncidentSubscriber.objects.get(major=major, user=outsider)
    assert row.affected_at is not None and Ticket.objects.count() == before
    assert b"Stop the emails" in response.content
    client.post(reverse("outages:unsubscribe", args=[major.pk]))
    assert not MajorIncidentSubscriber.objects.filter(major=major, user=outsider).exists()
    assert client.get(reverse("outages:affected", args=[major.pk])).status_code == 405


def test_deflection_matches_words_without_accents_or_case(
    manager: User, requester: User, outsider: User, django_assert_max_num_queries: Any
) -> None:
    major = _major(manager, requester)
    _major(manager, requester, headline="Printers offline on floor 3")
    client = _client(outsider)
    with django_assert_max_num_queries(6):
        hit = client.get(reverse("outages:match"), {"subject": "MESSAGERIE en panne depuis ce matin"})
    assert b"Known outage: Messagerie indisponible" in hit.content and b"Printers" not in hit.content
    assert reverse("outages:affected", args=[major.pk]).encode() in hit.content
    assert b"Known outage" in client.get(reverse("outages:match"), {"q": "lyon"}).content
    assert b"Known outage" not in client.get(reverse("outages:match"), {"q": "the"}).content
    assert b"Known outage" not in client.get(reverse("outages:match"), {"q": "vpn"}).content
    accents = _major(manager, requester, headline="Réseau coupé au siège")
    found = client.get(reverse("outages:match"), {"q": "reseau COUPE"}).content.decode()
    assert f'id="outage-match-{accents.pk}"' in found
    affected = client.post(reverse("outages:affected", args=[major.pk]), HTTP_HX_REQUEST="true")
    assert b"we count you among the people affected" in affected.content
    services.resolve_major(major, by=manager, message="Back")
    assert b"Messagerie" not in client.get(reverse("outages:match"), {"q": "messagerie"}).content


def test_the_new_request_page_asks_for_known_outages(requester: User) -> None:
    page = _client(requester).get(reverse("portal:ticket-new"))
    assert b'id="outage-deflection"' in page.content and reverse("outages:match").encode() in page.content


def test_a_requester_reads_the_known_problem_behind_their_request_but_nothing_internal(
    client: Client, agent: User, requester: User, requester_b: User
) -> None:

    mine = tickets.open_ticket(by=requester, requester=requester, subject="VPN drops", description="Every hour")
    other = tickets.open_ticket(by=requester_b, requester=requester_b, subject="Printer", description="Jammed")
    problem = services.create_problem(
        by=agent,
        title="VPN gateway firmware",
        root_cause="Memory leak in 7.2.5",
        workaround="Reconnect",
        incident_ids=[mine.pk],
    )
    services.comment_on_problem(problem, by=agent, body="The vendor sends a fix on Friday.", internal=False)
    services.comment_on_problem(problem, by=agent, body="Vendor case 4411, escalated", internal=True)

    client.force_login(requester)
    page = client.get(f"/portal/requests/{mine.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="known-problem"' in page and problem.reference in page
    assert "The vendor sends a fix on Friday." in page
    assert "Vendor case 4411" not in page and "Memory leak" not in page  # internal comment, root cause
    client.force_login(requester_b)
    assert (
        'id="known-problem"'
        not in client.get(f"/portal/requests/{other.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
