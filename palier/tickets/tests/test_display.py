"""Readable history sentences (tickets/display.py)."""

from __future__ import annotations

import pytest
from django.utils import translation

from palier.people.models import User
from palier.tickets import display, selectors, services
from palier.tickets.models import Category, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_events_read_as_sentences(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to="in_progress", by=agent)
    ticket.refresh_from_db()
    category = Category.objects.get(slug="hardware-printer")
    services.update_ticket(
        ticket, by=agent, expected_version=None, changes={"urgency": "high", "category": category, "assignee": agent}
    )
    with translation.override("en"):
        sentences = [display.event_sentence(e) for e in TicketEvent.objects.order_by("id")]
    assert sentences[0] == f"opened {ticket.reference}"
    assert "changed the status from “New” to “In progress”" in sentences
    assert "changed the urgency from “Low” to “High”" in sentences
    assert "changed the category from “nothing” to “Printers and scanners”" in sentences
    assert "changed the priority from “P4” to “P3”" in sentences
    assert "changed the assignee from “nothing” to “Léa L1”" in sentences


def test_timeline_items_mark_internal_notes(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=agent, body="public")
    services.comment_on_ticket(ticket, by=agent, body="secret", internal=True)
    agent_view = display.timeline_items(selectors.ticket_timeline(agent, ticket))
    assert [(i.kind, i.text) for i in agent_view if i.kind != "event"] == [("reply", "public"), ("note", "secret")]
    public_view = display.timeline_items(selectors.public_timeline(ticket))
    assert [i.text for i in public_view if i.kind != "event"] == ["public"]
    assert display.actor_name(TicketEvent(actor=None)) == "Palier"
