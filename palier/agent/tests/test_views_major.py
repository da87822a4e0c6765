"""The desk's major-incident pages: the ticket page's banner and declare form, the list, a major
incident's page with its log, attached tickets and review, and the actions posted from them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import User
from palier.problems import services
from palier.problems.models import MajorIncident, MajorIncidentLink, MajorIncidentUpdate
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _incident(requester: User, subject: str = "Mail is down") -> Ticket:
    return tickets.open_ticket(by=requester, requester=requester, subject=subject, description="Nothing arrives.")


def test_an_agent_sees_no_declare_form_and_cannot_post_one(agent: User, requester: User) -> None:
    ticket = _incident(requester)
    client = _client(agent)
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]))
    assert page.status_code == 200 and b"major-declare" not in page.content
    response = client.post(reverse("major:declare", args=[ticket.pk]), {"major-headline": "Mail down"}, follow=True)
    assert b"Only managers and administrators" in response.content
    assert not MajorIncident.objects.exists()


def test_a_manager_declares_from_the_ticket_page_and_the_banner_links_to_it(manager: User, requester: User) -> None:
    ticket = _incident(requester)
    client = _client(manager)
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]))
    assert b'id="major-declare"' in page.content
    form = page.content.decode().split('id="major-declare"')[1].split("</form>")[0]
    assert re.search(r'name="csrfmiddlewaretoken" value="\w{20,}"', form)  # the form posts under CSRF
    empty = client.post(reverse("major:declare", args=[ticket.pk]), {"major-headline": " "}, follow=True)
    assert not MajorIncident.objects.exists() and b"alert" in empty.content
    response = client.post(
        reverse("major:declare", args=[ticket.pk]),
        {"major-headline": "Email is down", "major-status_note": "We are on it."},
        follow=True,
    )
    major = MajorIncident.objects.get()
    assert response.redirect_chain[-1][0] == reverse("major:detail", args=[major.pk])
    assert b"Email is down" in response.content and ticket.reference.encode() in response.content
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]))
    assert b'id="major-banner"' in page.content and b"Major incident \xe2\x80\x94 Email is down" in page.content
    assert b'id="major-declare"' not in page.content


def test_the_banner_costs_one_query_and_the_tag_none(
    manager: User, requester: User, django_assert_num_queries: Any
) -> None:
    from django.template import Context, Template
    from django.test import RequestFactory

    from palier.problems import major_selectors

    ticket = _incident(requester)
    services.declare_major(ticket, by=manager, headline="Email is down")
    request = RequestFactory().get("/")
    request.user = manager
    with django_assert_num_queries(1):
        banner = major_selectors.banner_for(ticket)
    template = Template("{% load major_tags %}{% major_banner banner %}")
    with django_assert_num_queries(0):
        html = template.render(Context({"ticket": ticket, "request": request, "banner": banner}))
    assert "Email is down" in html


def test_the_page_publishes_attaches_ends_and_reviews(
    agent: User, manager: User, requester: User, requester_b: User, django_assert_max_num_queries: Any
) -> None:
    major = services.declare_major(_incident(requester), by=manager, headline="Email is down")
    other = _incident(requester_b, "No mail since 9")
    client = _client(manager)
    url = reverse("major:detail", args=[major.pk])
    response = client.post(reverse("major:attach", args=[major.pk]), {"attach-reference": "INC-999999"}, follow=True)
    assert b"does not exist or you may not see it" in response.content
    client.post(reverse("major:attach", args=[major.pk]), {"attach-reference": other.reference})
    assert MajorIncidentLink.objects.filter(major=major, ticket=other).exists()
    client.post(
        reverse("major:publish", args=[major.pk]),
        {"update-message": "Relay restarted.", "update-portal": "on", "update-email": "on"},
    )
    client.post(reverse("major:publish", args=[major.pk]), {"update-message": "DBA paged", "update-internal": "on"})
    assert list(MajorIncidentUpdate.objects.values_list("channel", flat=True)) == ["portal", "email", "internal"]
    with django_assert_max_num_queries(20):
        page = client.get(url)
    assert b"Relay restarted." in page.content and b"DBA paged" in page.content
    assert other.reference.encode() in page.content and b"2 subscribers" in page.content
    assert b"major-review-form" not in page.content  # the review comes after the end
    client.post(
        reverse("major:resolve", args=[major.pk]),
        {"resolve-message": "Mail flows again.", "resolve-resolve_attached": "on"},
    )
    major.refresh_from_db()
    other.refresh_from_db()
    assert major.state == "resolved" and other.status == "resolved"
    ended = client.get(url).content.decode()
    assert 'id="major-review-form"' in ended and 'id="major-resolve-form"' not in ended
    client.post(
        reverse("major:review", args=[major.pk]),
        {"review-review_summary": "The relay's disk filled up.", "review-version": major.version},
    )
    major.refresh_from_db()
    assert major.review_summary == "The relay's disk filled up."
    stale = client.post(
        reverse("major:review", args=[major.pk]),
        {"review-review_summary": "Other", "review-version": major.version - 1},
        follow=True,
    )
    assert b"changed by someone else" in stale.content
    major.refresh_from_db()
    assert major.review_summary == "The relay's disk filled up."


def test_the_list_shows_ongoing_first(manager: User, requester: User) -> None:
    ended = services.declare_major(_incident(requester, "Wi-Fi"), by=manager, headline="Wi-Fi is down")
    services.resolve_major(ended, by=manager, message="Back")
    services.declare_major(_incident(requester), by=manager, headline="Email is down")
    page = _client(manager).get(reverse("major:list"))
    content = page.content.decode()
    assert content.index("Email is down") < content.index("Wi-Fi is down")


def test_requesters_do_not_reach_the_desk_pages(manager: User, requester: User) -> None:
    major = services.declare_major(_incident(requester), by=manager, headline="Email is down")
    client = _client(requester)
    assert client.get(reverse("major:detail", args=[major.pk])).status_code == 404
    assert client.get(reverse("major:list")).status_code == 404
