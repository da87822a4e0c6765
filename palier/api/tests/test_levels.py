"""API: escalate / de-escalate / route again, the vendor's reference and a ticket's SLA."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
Make = Callable[..., ApiClient]


def test_agent_escalates_to_the_next_level_with_a_reason_and_back(
    client_for: Make, agent: User, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    ticket = make_ticket(requester, subject="VPN drops every hour")
    api = client_for(agent)
    refused = api.call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "  "})
    assert_problem(refused, 422, "reason")
    assert Ticket.objects.get(pk=ticket.pk).group.level == 1  # type: ignore[union-attr]

    response = api.call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "Needs network access"})
    assert response.status_code == 200, response.content
    assert response.json()["group"]["id"] == l2.pk
    event = TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).get()
    assert event.data["reason"] == "Needs network access"

    back = client_for(agent_l2).call(
        "POST", f"/tickets/{ticket.pk}/deescalate", {"reason": "Fixed the route; L1 confirms"}
    )
    assert back.status_code == 200, back.content
    assert back.json()["group"]["level"] == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.DEESCALATED).exists()


def test_escalation_is_for_agents_and_checks_the_version(
    client_for: Make, agent: User, admin_user: User, requester: User, l2: SupportGroup
) -> None:
    ticket = make_ticket(requester)
    denied = client_for(requester).call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "please"})
    assert denied.status_code == 403
    stale = client_for(agent).call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "x", "version": 99})
    assert stale.status_code == 412
    above = people.create_group(name="Top", level=5)
    client_for(agent).call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "x", "group": above.pk})
    assert client_for(agent).call("GET", f"/tickets/{ticket.pk}").status_code == 404  # left the agent's groups
    too_high = client_for(admin_user).call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "again"})
    assert too_high.status_code in (409, 422)
    assert "L5" in too_high.content.decode() or "5" in too_high.json()["detail"]


def test_vendor_reference_and_resolved_level_show_in_the_ticket(client_for: Make, agent: User, requester: User) -> None:
    vendor = people.create_group(name="Printer vendor", level=4, is_vendor=True)
    people.add_group_member(vendor, user=agent)
    ticket = make_ticket(requester)
    api = client_for(agent)
    assert (
        api.call("POST", f"/tickets/{ticket.pk}/escalate", {"reason": "Hardware fault", "group": vendor.pk}).status_code
        == 200
    )
    response = api.call("PUT", f"/tickets/{ticket.pk}/vendor-reference", {"vendor_reference": "CASE-88121"})
    assert response.status_code == 200, response.content
    assert response.json()["vendor_reference"] == "CASE-88121"
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.VENDOR).exists()
    api.call("POST", f"/tickets/{ticket.pk}/transitions", {"status": "resolved"})
    assert api.call("GET", f"/tickets/{ticket.pk}").json()["resolved_level"] == 4


def test_sla_endpoint_gives_requesters_plain_words_and_agents_the_clocks(
    client_for: Make, agent: User, requester: User, requester_b: User
) -> None:
    ticket = make_ticket(requester, impact="high", urgency="high")
    mine: Any = client_for(requester).call("GET", f"/tickets/{ticket.pk}/sla", HTTP_ACCEPT_LANGUAGE="en").json()
    assert mine["expectation"] and mine["clocks"] == [] and mine["timeline"] == []
    full = client_for(agent).call("GET", f"/tickets/{ticket.pk}/sla").json()
    kinds = {c["kind"] for c in full["clocks"]}
    assert {"response", "resolution"} <= kinds
    assert all(c["running"] and c["due_at"] for c in full["clocks"] if c["kind"] in {"response", "resolution"})
    assert full["timeline"]
    assert client_for(requester_b).call("GET", f"/tickets/{ticket.pk}/sla").status_code == 404
    detail = client_for(agent).call("GET", f"/tickets/{ticket.pk}").json()
    assert detail["sla_due_at"] is not None
