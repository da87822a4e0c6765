"""Client tests for the survey pages: the signed answer page, the portal box and the agent's ticket
page score (the answers list and settings: agent/tests/test_views_surveys.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from palier.people.models import User
from palier.surveys import services, tokens
from palier.surveys.models import SurveyResponse
from palier.surveys.tests.helpers import resolved_ticket
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _link(ticket: Ticket, score: int | None = None) -> str:
    return services.answer_url(ticket, score=score, absolute=False)


def test_opening_a_score_link_changes_nothing(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent, subject="Printer jam")
    response = client.get(_link(ticket, 4), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "How did we do?" in html and "Printer jam" in html
    checked = [line for line in html.splitlines() if 'name="score"' in line and "checked" in line]
    assert len(checked) == 1 and 'value="4"' in checked[0]
    assert not SurveyResponse.objects.exists()
    assert not TicketEvent.objects.filter(kind="survey").exists()


def test_answer_from_the_link_without_signing_in(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    url = _link(ticket, 4)
    response = client.post(url, {"score": "4", "comment": "Quick and kind"})
    assert response.status_code == 302
    saved = SurveyResponse.objects.get()
    assert (saved.ticket, saved.requester, saved.score, saved.comment) == (ticket, requester, 4, "Quick and kind")
    event = TicketEvent.objects.get(kind="survey")
    assert event.data == {"score": 4, "comment": "Quick and kind"}
    thanks = client.get(response["Location"], **EN).content.decode()
    assert "Thank you for your answer!" in thanks and "4 out of 5" in thanks


def test_answer_can_be_changed_within_the_window(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    client.post(_link(ticket, 2), {"score": "2"})
    page = client.get(_link(ticket), **EN).content.decode()
    assert "you may change your answer" in page
    assert client.post(_link(ticket), {"score": "5", "comment": "Sorted"}).status_code == 302
    assert SurveyResponse.objects.get().score == 5
    assert TicketEvent.objects.filter(kind="survey").count() == 2


def test_answer_is_locked_after_the_window(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    services.answer_survey(ticket=ticket, requester=requester, score=3)
    SurveyResponse.objects.update(answered_at=SurveyResponse.objects.get().answered_at - timedelta(days=8))
    page = client.get(_link(ticket, 5), **EN)
    assert page.status_code == 200
    assert "can no longer be changed" in page.content.decode()
    assert 'id="survey-form"' not in page.content.decode()
    refused = client.post(_link(ticket, 5), {"score": "5"}, **EN)
    assert refused.status_code == 409
    assert SurveyResponse.objects.get().score == 3
    assert TicketEvent.objects.filter(kind="survey").count() == 1


def test_a_bad_score_is_shown_next_to_the_field(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    response = client.post(_link(ticket), {"score": "9"}, **EN)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_tampered_and_expired_links_get_a_clear_page(
    client: Client, requester: User, agent: User, settings: object
) -> None:
    ticket = resolved_ticket(requester, agent)
    token = tokens.make_token(ticket_id=ticket.pk, requester_id=requester.pk)
    tampered = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    for method in (client.get, client.post):
        response = method(reverse("surveys:answer", args=[tampered]), {"score": "5"}, **EN)
        assert response.status_code == 400
        assert "This survey link is not valid" in response.content.decode()
    settings.PALIER_SURVEY_LINK_DAYS = 0  # type: ignore[attr-defined]
    response = client.post(reverse("surveys:answer", args=[token]), {"score": "5"}, **EN)
    assert response.status_code == 410
    assert "This survey link has expired" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_a_link_for_another_ticket_or_person_answers_nothing(
    client: Client, requester: User, requester_b: User, agent: User
) -> None:
    alices = resolved_ticket(requester, agent)
    bobs = resolved_ticket(requester_b, agent)
    forged = tokens.make_token(ticket_id=alices.pk, requester_id=requester_b.pk)  # Bob's id, Alice's ticket
    assert client.post(reverse("surveys:answer", args=[forged]), {"score": "1"}).status_code == 400
    client.force_login(requester_b)  # Bob, signed in, opens Alice's link
    response = client.post(_link(alices, 1), {"score": "1"}, **EN)
    assert response.status_code == 403
    assert "This survey was sent to someone else" in response.content.decode()
    assert not SurveyResponse.objects.exists()
    assert client.post(_link(bobs, 5), {"score": "5"}).status_code == 302
    assert list(SurveyResponse.objects.values_list("ticket_id", flat=True)) == [bobs.pk]


def test_portal_asks_then_shows_the_rating(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    client.force_login(requester)
    page = client.get(reverse("portal:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert "How did we do?" in page and page.count('data-score="') == 5
    client.post(_link(ticket, 4), {"score": "4", "comment": "Great"})
    page = client.get(reverse("portal:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert "Your rating: 4 out of 5" in page and "Great" in page and "Change my answer" in page


def test_portal_asks_nothing_while_the_ticket_is_open(client: Client, requester: User) -> None:
    ticket = make_ticket(requester)
    client.force_login(requester)
    page = client.get(reverse("portal:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert "How did we do?" not in page


def test_agent_ticket_page_shows_the_score(client: Client, requester: User, agent: User) -> None:
    ticket = resolved_ticket(requester, agent)
    services.answer_survey(ticket=ticket, requester=requester, score=2, comment="Took a week")
    client.force_login(agent)
    page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert 'id="survey-score"' in page
    assert "2/5" in page and "Took a week" in page
