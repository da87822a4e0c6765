"""Routing pages: ticket actions, availability, the manager's team page, rule and default admin."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.urls import reverse

from palier.people import services as people
from palier.routing import services
from palier.routing.models import CategoryLevelDefault, RoutingRule
from palier.routing.selectors import escalation_groups
from palier.routing.tests import conftest as routing_fixtures
from palier.tickets.models import Category, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
make_group = routing_fixtures.make_group


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_agent_escalates_from_the_ticket_page(requester, agent, l2):
    ticket = make_ticket(requester)
    url = reverse("routing:ticket-escalate", args=[ticket.pk])
    response = client_for(agent).post(url, {"target": "up", "reason": "Network diagnosis", "version": ticket.version})
    assert response.status_code == 302 and response["Location"] == reverse("agent:ticket-detail", args=[ticket.pk])
    ticket.refresh_from_db()
    assert ticket.group == l2


def test_escalate_to_a_chosen_group_with_htmx(requester, agent, l2):
    ticket = make_ticket(requester)
    response = client_for(agent).post(
        reverse("routing:ticket-escalate", args=[ticket.pk]),
        {"target": str(l2.pk), "reason": "r"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and response["HX-Redirect"].endswith(f"/tickets/{ticket.pk}/")
    assert Ticket.objects.get(pk=ticket.pk).group == l2


def test_escalation_without_reason_shows_the_error_and_changes_nothing(requester, agent, l2):
    ticket = make_ticket(requester)
    response = client_for(agent).post(
        reverse("routing:ticket-escalate", args=[ticket.pk]), {"target": "up", "reason": "  "}
    )
    assert response.status_code == 400
    assert 'id="escalate-form"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.group.is_triage and not ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).exists()


def test_escalation_refused_by_the_service_shows_the_message(requester, agent):
    ticket = make_ticket(requester)  # no L2 group exists
    response = client_for(agent).post(
        reverse("routing:ticket-escalate", args=[ticket.pk]),
        {"target": "up", "reason": "why"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "L2" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).group.is_triage


def test_requester_and_outsider_agent_cannot_escalate(requester, agent_l2, l2):
    ticket = make_ticket(requester)
    url = reverse("routing:ticket-escalate", args=[ticket.pk])
    assert client_for(requester).post(url, {"target": "up", "reason": "r"}).status_code == 404
    assert client_for(agent_l2).post(url, {"target": "up", "reason": "r"}).status_code == 404  # cannot see it
    assert Ticket.objects.get(pk=ticket.pk).group.is_triage


def test_reroute_and_vendor_reference(requester, agent, l2, admin_user):
    services.create_rule(by=admin_user, name="Network", group=l2, category=Category.objects.get(slug="network"))
    ticket = make_ticket(requester)
    Ticket.objects.filter(pk=ticket.pk).update(category=Category.objects.get(slug="network-wifi"))
    client = client_for(agent)
    response = client.post(
        reverse("routing:ticket-vendor-reference", args=[ticket.pk]), {"reference": "V-77", "version": ticket.version}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.vendor_reference == "V-77"
    response = client.post(reverse("routing:ticket-reroute", args=[ticket.pk]), {"version": ticket.version})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).group == l2


def test_stale_vendor_reference_is_refused(requester, agent):
    ticket = make_ticket(requester)
    response = client_for(agent).post(
        reverse("routing:ticket-vendor-reference", args=[ticket.pk]),
        {"reference": "V-1", "version": ticket.version - 1},
    )
    assert response.status_code == 400
    assert Ticket.objects.get(pk=ticket.pk).vendor_reference == ""


def test_ticket_page_pieces_render(requester, agent, l2):
    ticket = make_ticket(requester)
    request = RequestFactory().get("/")
    request.user = agent
    html = Template(
        "{% load routing_tags %}{% escalate_form ticket groups %}{% reroute_button ticket %}"
        "{% vendor_reference_form ticket %}{% availability_toggle %}"
    ).render(Context({"ticket": ticket, "groups": escalation_groups(), "request": request, "csrf_token": "tok"}))
    assert reverse("routing:ticket-escalate", args=[ticket.pk]) in html
    assert l2.name in html and reverse("routing:ticket-reroute", args=[ticket.pk]) in html
    assert 'id="availability-toggle"' in html


def test_agent_toggles_own_availability(agent):
    client = client_for(agent)
    assert client.post(reverse("routing:my-availability"), {}).status_code == 302
    agent.refresh_from_db()
    assert agent.is_available is False
    response = client.post(reverse("routing:my-availability"), {"available": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'id="availability-toggle"' in response.content.decode()
    agent.refresh_from_db()
    assert agent.is_available is True


# --- the manager's team page -----------------------------------------------------------------------------


def test_team_page_for_managers_only(manager, agent, requester):
    assert client_for(agent).get(reverse("routing:team")).status_code == 404
    assert client_for(requester).get(reverse("routing:team")).status_code == 404
    response = client_for(manager).get(reverse("routing:team"))
    assert response.status_code == 200 and agent.display_name in response.content.decode()


def test_manager_sets_absence_and_requeues(manager, agent, requester, triage):
    ticket = make_ticket(requester, by=agent, assignee=agent, group=triage)
    client = client_for(manager)
    response = client.post(
        reverse("routing:team-absence-add", args=[agent.pk]),
        {"start": "2026-12-01T09:00", "end": "2026-12-02T18:00", "reason": "Formation"},
    )
    assert response.status_code == 302 and agent.absences.count() == 1
    bad = client.post(
        reverse("routing:team-absence-add", args=[agent.pk]), {"start": "2026-12-05T09:00", "end": "2026-12-04T09:00"}
    )
    assert bad.status_code == 400 and agent.absences.count() == 1
    assert client.post(reverse("routing:team-requeue", args=[agent.pk])).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.status == Ticket.Status.NEW
    client.post(reverse("routing:team-availability", args=[agent.pk]), {})
    agent.refresh_from_db()
    assert agent.is_available is False


def test_manager_cannot_touch_agents_outside_their_groups(manager, agent_l2):
    client = client_for(manager)
    assert client.post(reverse("routing:team-requeue", args=[agent_l2.pk])).status_code == 404
    assert client.post(reverse("routing:team-availability", args=[agent_l2.pk]), {}).status_code == 404


# --- administration -----------------------------------------------------------------------------------------


def test_admin_manages_rules(admin_user, l2, requester):
    client = client_for(admin_user)
    assert client.get(reverse("routing:rules")).status_code == 200
    response = client.post(reverse("routing:rules"), {"name": "VPN", "group": l2.pk, "words": "vpn", "is_active": "on"})
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    second = services.create_rule(by=admin_user, name="Second", group=l2)
    client.post(reverse("routing:rule-move", args=[second.pk, "up"]))
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Second", "VPN"]
    make_ticket(requester, subject="VPN lent")
    page = client.get(reverse("routing:rule-edit", args=[rule.pk]))
    assert page.status_code == 200 and "VPN lent" in page.content.decode()
    response = client.post(
        reverse("routing:rule-edit", args=[rule.pk]), {"name": "VPN", "group": l2.pk, "words": "vpn, tunnel"}
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.words == "vpn\ntunnel" and rule.is_active is False
    client.post(reverse("routing:rule-active", args=[rule.pk]), {"active": "1"})
    assert RoutingRule.objects.get(pk=rule.pk).is_active
    client.post(reverse("routing:rule-delete", args=[rule.pk]))
    assert not RoutingRule.objects.filter(pk=rule.pk).exists()


def test_invalid_rule_shows_errors_and_creates_nothing(admin_user, l2):
    response = client_for(admin_user).post(reverse("routing:rules"), {"name": "", "group": l2.pk})
    assert response.status_code == 400 and not RoutingRule.objects.exists()


def test_rules_admin_is_for_admins_only(agent, manager, requester):
    for user in (agent, manager, requester):
        assert client_for(user).get(reverse("routing:rules")).status_code == 404


def test_admin_manages_category_defaults(admin_user, l2):
    client = client_for(admin_user)
    network = Category.objects.get(slug="network")
    response = client.post(reverse("routing:defaults"), {"category": network.pk, "level": 2, "group": l2.pk})
    assert response.status_code == 302
    default = CategoryLevelDefault.objects.get()
    wrong = client.post(reverse("routing:defaults"), {"category": network.pk, "level": 3, "group": l2.pk})
    assert wrong.status_code == 400 and CategoryLevelDefault.objects.count() == 1
    assert client.get(reverse("routing:defaults")).status_code == 200
    client.post(reverse("routing:default-delete", args=[default.pk]))
    assert not CategoryLevelDefault.objects.exists()


def test_group_edit_page_saves_routing_fields(admin_user, l2, agent_l2, make_group):
    l3 = make_group("L3", level=3)
    data = {
        "name": l2.name,
        "level": 2,
        "members": [agent_l2.pk],
        "assignment_strategy": "round_robin",
        "escalation_group": l3.pk,
        "internal_target_minutes": 120,
    }
    response = client_for(admin_user).post(reverse("agent:admin-group-edit", args=[l2.pk]), data)
    assert response.status_code == 302
    l2.refresh_from_db()
    assert (l2.assignment_strategy, l2.escalation_group, l2.internal_target_minutes) == ("round_robin", l3, 120)
    people.update_group(l3, by=None, name="L3", level=3)
    bad = client_for(admin_user).post(
        reverse("agent:admin-group-edit", args=[l2.pk]), {**data, "vendor_contacts": "x@y.example"}
    )
    assert bad.status_code == 400
