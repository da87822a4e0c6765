"""What agents and requesters read about a ticket's service levels."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from palier.people.models import User
from palier.sla import selectors, services
from palier.sla.models import Clock
from palier.sla.tests.conftest import Frozen, open_ticket, paris
from palier.tickets import services as tickets

pytestmark = pytest.mark.django_db


def test_ticket_panel_summary(frozen: Frozen, requester: User, agent: User) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    frozen.set(paris(2026, 4, 1, 12, 0))
    sla = selectors.ticket_sla(ticket)
    response = next(c for c in sla.clocks if c.kind == Clock.Kind.RESPONSE)
    assert response.remaining_minutes == 60 and response.due_at == paris(2026, 4, 1, 13, 0)
    assert not (response.paused or response.warned or response.breached)
    services.sweep(now=paris(2026, 4, 1, 13, 30))
    frozen.set(paris(2026, 4, 1, 13, 30))
    response = next(c for c in selectors.ticket_sla(ticket).clocks if c.kind == Clock.Kind.RESPONSE)
    assert response.breached and response.overdue and response.remaining_minutes == -30
    tickets.comment_on_ticket(ticket, by=agent, body="Sorry for the wait.")
    response = next(c for c in selectors.ticket_sla(ticket).clocks if c.kind == Clock.Kind.RESPONSE)
    assert response.outcome == "missed" and not response.running


def test_timeline_explains_pauses_and_breaches(frozen: Frozen, requester: User, agent: User) -> None:
    frozen.set(paris(2026, 4, 3, 17, 30))
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    frozen.set(paris(2026, 4, 7, 10, 0))
    ticket = tickets.transition_ticket(ticket, to="pending_vendor", by=agent)
    frozen.set(paris(2026, 4, 7, 13, 0))
    tickets.transition_ticket(ticket, to="in_progress", by=agent)
    services.sweep_all(now=paris(2026, 4, 7, 16, 0))
    with translation.override("en"):
        texts = [e.text for e in selectors.timeline(ticket) if e.clock == "First response"]
    assert "Easter Monday" in texts[0] and "due Tuesday" in texts[0]
    assert any("Resumed after 3 h Pending vendor" in t for t in texts)
    breach = next(t for t in texts if t.startswith("Breached"))
    assert "target 4 h" in breach and "3 h in Pending vendor" in breach


def test_requester_expectation_in_plain_words_in_their_language(frozen: Frozen, requester: User) -> None:
    frozen.set(paris(2026, 4, 3, 17, 30))
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    with translation.override("en"):
        sentences = selectors.requester_expectation(ticket)
    assert sentences[0].startswith(
        "We usually answer within 4 business hours; you can expect a first answer by Tuesday"
    )
    assert "12:30" in sentences[0]
    assert "3 business days" in sentences[1]
    with translation.override("fr"):
        french = selectors.requester_expectation(ticket)
    assert "mardi" in french[0].lower() or french[0] != sentences[0]


def test_panel_and_timeline_selectors_cost_few_queries(
    frozen: Frozen, requester: User, agent: User, django_assert_max_num_queries: object
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    selectors.ticket_sla(ticket)  # warm the calendar cache
    with django_assert_max_num_queries(1):  # type: ignore[operator]
        selectors.ticket_sla(ticket)
    with django_assert_max_num_queries(1):  # type: ignore[operator]
        selectors.timeline(ticket)
    with django_assert_max_num_queries(1):  # type: ignore[operator]
        selectors.requester_expectation(ticket)


def test_the_panel_refreshes_for_agents_who_see_the_ticket(
    client: Client, frozen: Frozen, requester: User, agent: User, outsider: User
) -> None:
    ticket = open_ticket(requester, impact="medium", urgency="medium")
    url = reverse("sla:ticket-panel", args=[ticket.pk])
    client.force_login(agent)
    response = client.get(url)
    assert response.status_code == 200 and b"sla-panel" in response.content
    client.force_login(requester)
    assert client.get(url).status_code == 404


def test_the_includes_render_from_the_selectors(frozen: Frozen, requester: User, agent: User) -> None:
    from django.template.loader import render_to_string

    ticket = open_ticket(requester, impact="medium", urgency="medium")
    ticket.refresh_from_db()
    with translation.override("en"):
        panel = render_to_string("agent/sla/ticket_panel.html", {"sla": selectors.ticket_sla(ticket)})
        line = render_to_string("agent/sla/timeline.html", {"sla_timeline": selectors.timeline(ticket)})
        portal = render_to_string(
            "portal/sla/expectation.html", {"sla_expectation": selectors.requester_expectation(ticket)}
        )
    assert "4 h of business time left" in panel and "on track" in panel
    assert "Started: 4 h" in line
    assert "We usually answer within 4 business hours" in portal
