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
    assert sentences[0] == f"opened {ticket.reference}"  # what routing did is for agents only
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


@pytest.mark.parametrize(
    ("kind", "data", "english", "french"),
    [
        (
            "routed",
            {"rule": "VPN", "group": "Réseau"},
            "routed the ticket to Réseau by the rule “VPN”",
            "a routé le ticket vers Réseau par la règle “VPN”",
        ),
        (
            "escalated",
            {
                "from_group": "Service desk",
                "to_group": "Réseau",
                "from_level": 1,
                "to_level": 2,
                "fallback": "the escalation path loops",
            },
            "escalated the ticket from Service desk (L1) to Réseau (L2) — the group's escalation path loops, "
            "so the next level's group was used",
            "a escaladé le ticket de Service desk (L1) vers Réseau (L2) — le chemin d'escalade du groupe forme une boucle, "
            "le groupe du niveau suivant a donc été utilisé",
        ),
        (
            "created",
            {"reference": "INC-7", "placed": ["routing failed: triage group"]},
            "opened INC-7 (routing failed, so it went to the triage group)",
            "a ouvert INC-7 (le routage a échoué, le ticket est donc allé au groupe de tri)",
        ),
    ],
)
def test_routing_and_escalation_events_read_in_the_readers_language(
    kind: str, data: dict[str, object], english: str, french: str
) -> None:
    event = TicketEvent(kind=kind, data=data)
    with translation.override("en"):
        assert display.event_sentence(event, internal=True) == english
    with translation.override("fr"):
        assert display.event_sentence(event, internal=True) == french


def test_requesters_do_not_see_how_routing_placed_their_ticket() -> None:
    event = TicketEvent(kind="created", data={"reference": "INC-7", "placed": ["routing rule: VPN"]})
    with translation.override("en"):
        assert display.event_sentence(event) == "opened INC-7"
        assert display.event_sentence(event, internal=True) == "opened INC-7 (routing rule “VPN”)"


@pytest.mark.parametrize(
    ("kind", "data", "english"),
    [
        ("approval", {"decision": "approved", "stage": 1}, "approved the request (stage 1)"),
        ("approval", {"decision": "rejected", "comment": "Pas de budget"}, "rejected the request: Pas de budget"),
        (
            "approval",
            {"decision": "asked", "stage": 2, "approvers": ["Léa", "Marc"]},
            "asked for approval (stage 2): Léa, Marc",
        ),
        ("task", {"action": "opened", "task": "REQ-9", "subject": "Badge"}, "opened the fulfilment task REQ-9 (Badge)"),
        (
            "task",
            {"action": "resolved", "task": "REQ-9", "subject": "Badge"},
            "fulfilment task REQ-9 (Badge) is now “Resolved”",
        ),
        ("rule", {"rule": "Close after 7 days"}, "applied the automation rule “Close after 7 days”"),
        ("survey", {"score": 4, "comment": ""}, "rated the service 4 out of 5"),
        ("call", {"minutes": 12}, "logged a phone call of 12 min"),
    ],
)
def test_catalog_automation_survey_and_call_events_say_what_happened(
    kind: str, data: dict[str, object], english: str
) -> None:
    with translation.override("en"):
        assert display.event_sentence(TicketEvent(kind=kind, data=data)) == english


@pytest.mark.parametrize(("minutes", "text"), [(45, "45 min"), (120, "2 h"), (65, "1 h 05 min")])
def test_durations_read_in_hours_and_minutes(minutes: int, text: str) -> None:
    with translation.override("en"):
        assert display.duration(minutes) == text
