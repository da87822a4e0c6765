"""What the API tells a requester is what the portal shows them: the history without how the
desk placed the ticket (routing rule, group, assignee) nor any internal event, the detail
without the vendor's reference or the SLA due time. And a requester sets through the API only
the fields the portal lets them set: anything else is refused, naming the field, and nothing
changes."""

from __future__ import annotations

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.routing import services as routing
from palier.tickets import services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

STAFF_ONLY = {"vendor_reference", "sla_due_at"}
PLACEMENT = {"group", "assignee", "placed", "rule"}


@pytest.fixture
def routed(requester, agent_l2, l2, admin_user) -> Ticket:
    """A ticket the rule “Direction: enquêtes” routed to L2 and assigned, with internal events."""
    routing.create_rule(by=admin_user, name="Direction: enquêtes", group=l2, words="vpn")
    ticket = make_ticket(requester, subject="VPN en panne")
    ticket = services.update_ticket(ticket, by=agent_l2, expected_version=None, changes={"assignee": agent_l2})
    services.comment_on_ticket(ticket, by=agent_l2, body="note", internal=True)
    services.set_vendor_reference(ticket, reference="CASE-77", by=agent_l2)
    return Ticket.objects.get(pk=ticket.pk)


def test_requester_history_hides_how_the_desk_placed_the_ticket(client_for, routed, requester):
    body = client_for(requester).get(f"{API}/tickets/{routed.pk}/history").json()
    created = [e for e in body["items"] if e["kind"] == "created"]
    assert len(created) == 1
    assert not PLACEMENT & set(created[0]["data"]), created[0]["data"]
    assert created[0]["data"]["reference"] == routed.reference
    assert not any(e["internal"] for e in body["items"])
    assert "Direction" not in str(body) and routed.group.name not in str(body)


def test_agent_history_keeps_the_placement(client_for, routed, agent_l2):
    items = client_for(agent_l2).get(f"{API}/tickets/{routed.pk}/history").json()["items"]
    created = next(e for e in items if e["kind"] == "created")
    assert created["data"]["group"] == routed.group.name
    assert any("Direction: enquêtes" in note for note in created["data"]["placed"])
    assert any(e["internal"] for e in items)


def test_requester_detail_and_list_hide_the_vendor_reference_and_sla_due_time(client_for, routed, requester):
    client = client_for(requester)
    detail = client.get(f"{API}/tickets/{routed.pk}").json()
    assert not STAFF_ONLY & set(detail), detail
    assert "CASE-77" not in str(detail)
    by_reference = client.get(f"{API}/tickets/by-reference/{routed.reference}").json()
    assert not STAFF_ONLY & set(by_reference)
    (listed,) = client.get(f"{API}/tickets").json()["items"]
    assert not STAFF_ONLY & set(listed)


def test_agent_detail_and_list_keep_them(client_for, routed, agent_l2):
    client = client_for(agent_l2)
    assert client.get(f"{API}/tickets/{routed.pk}").json()["vendor_reference"] == "CASE-77"
    (listed,) = client.get(f"{API}/tickets").json()["items"]
    assert set(listed) >= STAFF_ONLY


# --- fields a requester may not set ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("tags", ["vip"]), ("channel", "phone"), ("channel", "monitoring")],
)
def test_requester_cannot_set_agent_fields_when_opening(client_for, requester, field, value):
    response = client_for(requester).call("POST", "/tickets", {"subject": "Écran noir", field: value})
    assert_problem(response, 403, field)
    assert Ticket.objects.count() == 0


def test_requester_may_send_the_channel_the_api_sets_anyway(client_for, requester):
    response = client_for(requester).call("POST", "/tickets", {"subject": "Écran noir", "channel": "api"})
    assert response.status_code == 201


def test_requester_cannot_change_tags_or_agent_fields(client_for, requester, l2, agent_l2):
    ticket = make_ticket(requester, tags=[])
    client = client_for(requester)
    for field, value in (("tags", ["vip"]), ("group", l2.pk), ("assignee", agent_l2.pk), ("impact", "high")):
        response = client.call("PATCH", f"/tickets/{ticket.pk}", {field: value, "version": ticket.version})
        assert_problem(response, 403, field)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.version, list(fresh.tags.all()), fresh.impact) == (ticket.version, [], ticket.impact)


def test_agent_still_sets_tags_and_channel(client_for, agent, requester):
    body = {"subject": "Appel", "requester": requester.pk, "tags": ["vip"], "channel": "phone"}
    response = client_for(agent).call("POST", "/tickets", body)
    assert response.status_code == 201, response.content
    assert (response.json()["tags"], response.json()["channel"]) == (["vip"], "phone")
