"""Routing rules: the matrix of conditions, first match wins, triage fallback, rules with deleted groups."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import PermissionDenied
from palier.people import services as people
from palier.people.models import SupportGroup
from palier.routing import services
from palier.routing.models import RoutingRule
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Level, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def net(make_group):
    return make_group("Network", level=2)


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ({"kind": "request"}, {"kind": "request"}, {"kind": "incident"}),
        ({"channel": "phone"}, {"channel": "phone"}, {"channel": "web"}),
        ({"priority": 1}, {"impact": Level.HIGH, "urgency": Level.HIGH}, {}),
        ({"words": "VPN, pare-feu"}, {"subject": "Le vpn ne répond plus"}, {"subject": "Écran noir"}),
        ({"words": "ecran"}, {"description": "Mon ÉCRAN clignote"}, {"description": "Souris cassée"}),
        ({"words": "imprim"}, {"subject": "Imprimante HS"}, {"subject": "Réimpression"}),
    ],
)
def test_each_simple_condition_alone(make_rule, net, requester, triage, condition, matching, other):
    make_rule("Rule", net, **condition)
    defaults = {"subject": "Problème", "description": ""}
    assert make_ticket(requester, by=None, **{**defaults, **matching}).group == net
    assert make_ticket(requester, by=None, **{**defaults, **other}).group == triage


def test_category_matches_descendants(make_rule, net, requester, triage):
    make_rule("Network things", net, category=Category.objects.get(slug="network"))
    assert make_ticket(requester, category=Category.objects.get(slug="network-vpn")).group == net
    assert make_ticket(requester, category=Category.objects.get(slug="network")).group == net
    assert make_ticket(requester, category=Category.objects.get(slug="hardware-printer")).group == triage
    assert make_ticket(requester).group == triage  # no category


def test_organisation_and_department(make_rule, net, requester, outsider, triage, org):
    dept = people.create_department(organisation=org, name="Finance")
    requester.department = dept
    requester.save()
    make_rule("Acme finance", net, organisation=org, department=dept)
    assert make_ticket(requester).group == net
    assert make_ticket(outsider).group == triage


def test_combined_conditions_all_must_match(make_rule, net, requester, triage):
    make_rule("Phone VPN requests", net, kind="request", channel="phone", words="vpn")
    agent_opened = {"by": None}
    assert make_ticket(requester, kind="request", channel="phone", subject="VPN", **agent_opened).group == net
    assert make_ticket(requester, kind="request", channel="web", subject="VPN", **agent_opened).group == triage
    assert make_ticket(requester, kind="incident", channel="phone", subject="VPN", **agent_opened).group == triage
    assert make_ticket(requester, kind="request", channel="phone", subject="Wi-Fi", **agent_opened).group == triage


def test_first_match_wins_and_order_can_change(make_rule, make_group, net, requester, admin_user):
    other = make_group("Other", level=2)
    make_rule("Everything to net", net)
    second = make_rule("Everything to other", other)
    assert make_ticket(requester).group == net
    services.move_rule(second, by=admin_user, up=True)
    assert make_ticket(requester).group == other


def test_inactive_rule_is_skipped(make_rule, net, requester, triage, admin_user):
    rule = make_rule("All", net)
    services.set_rule_active(rule, by=admin_user, active=False)
    assert make_ticket(requester).group == triage
    services.set_rule_active(rule, by=admin_user, active=True)
    assert make_ticket(requester).group == net


def test_no_match_goes_to_triage_with_a_note(make_rule, net, requester, triage):
    make_rule("VPN", net, words="vpn")
    ticket = make_ticket(requester, subject="Écran")
    assert ticket.group == triage
    created = ticket.events.get(kind=TicketEvent.Kind.CREATED)
    assert "triage" in " ".join(created.data["placed"])


def test_matching_rule_is_named_in_the_created_event(make_rule, net, requester):
    make_rule("VPN to network", net, words="vpn")
    ticket = make_ticket(requester, subject="VPN coupé")
    assert "routing rule: VPN to network" in ticket.events.get(kind=TicketEvent.Kind.CREATED).data["placed"]


def test_actions_set_category_priority_and_tags(make_rule, net, requester):
    wifi = Category.objects.get(slug="network-wifi")
    make_rule("Wi-Fi", net, words="wifi", set_category=wifi, set_priority=2, add_tags="wifi, reseau")
    ticket = make_ticket(requester, subject="Le wifi tombe")
    assert (ticket.group, ticket.category, ticket.priority) == (net, wifi, 2)
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["reseau", "wifi"]


def test_category_action_keeps_the_requesters_choice(make_rule, net, requester):
    printer = Category.objects.get(slug="hardware-printer")
    make_rule("All", net, set_category=Category.objects.get(slug="network-wifi"))
    assert make_ticket(requester, category=printer).category == printer


def test_agents_explicit_group_is_respected(make_rule, net, make_group, requester, agent):
    chosen = make_group("Chosen", level=2)
    make_rule("All", net)
    assert make_ticket(requester, by=agent, group=chosen).group == chosen


def test_rule_cache_sees_edits(make_rule, net, make_group, requester, admin_user):
    rule = make_rule("All", net)
    assert make_ticket(requester).group == net
    other = make_group("Other", level=2)
    services.update_rule(rule, by=admin_user, group=other)
    assert make_ticket(requester).group == other
    services.delete_rule(rule, by=admin_user)
    assert make_ticket(requester).group.is_triage


# --- deleted groups and bad input ----------------------------------------------------------------


def test_rule_whose_group_is_deleted_is_disabled_not_a_crash(make_rule, make_group, requester, triage):
    doomed = make_group("Doomed", level=2)
    rule = make_rule("To doomed", doomed)
    SupportGroup.objects.filter(pk=doomed.pk).delete()
    rule.refresh_from_db()
    assert rule.group is None  # kept, shown as needing a group
    assert make_ticket(requester).group == triage


def test_deleted_group_between_cache_and_use_is_skipped(make_rule, make_group, net, requester):
    doomed = make_group("Doomed", level=2)
    make_rule("To doomed", doomed, words="vpn")
    make_rule("Fallback", net)
    assert make_ticket(requester, subject="Wi-Fi").group == net  # warms the cache
    # deleted without going through the rule services: the cache still lists the rule
    SupportGroup.objects.filter(pk=doomed.pk).delete()
    assert make_ticket(requester, subject="VPN").group == net


def test_rule_without_group_is_refused(admin_user, make_group):
    gone = make_group("Gone", level=2)
    SupportGroup.objects.filter(pk=gone.pk).delete()
    with pytest.raises(ValidationError) as exc:
        services.create_rule(by=admin_user, name="Broken", group=gone)
    assert "group" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.create_rule(by=admin_user, name="No group", group=None)
    assert not RoutingRule.objects.exists()


def test_reactivating_a_rule_without_group_is_refused(make_rule, make_group, admin_user):
    doomed = make_group("Doomed", level=2)
    rule = make_rule("To doomed", doomed, is_active=False)
    SupportGroup.objects.filter(pk=doomed.pk).delete()
    with pytest.raises(ValidationError):
        services.set_rule_active(rule, by=admin_user, active=True)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "  "},
        {"priority": 7},
        {"set_priority": 0},
        {"kind": "bogus"},
        {"channel": "fax"},
        {"add_tags": " ".join(f"t{i}" for i in range(30))},
    ],
)
def test_bad_rule_input_is_refused(admin_user, net, bad):
    with pytest.raises(ValidationError):
        services.create_rule(by=admin_user, **{"name": "Rule", "group": net, **bad})
    assert not RoutingRule.objects.exists()


def test_department_of_another_organisation_is_refused(admin_user, net, org, other_org):
    dept = people.create_department(organisation=other_org, name="Sales")
    with pytest.raises(ValidationError):
        services.create_rule(by=admin_user, name="x", group=net, organisation=org, department=dept)


def test_only_admins_manage_rules(agent, net):
    with pytest.raises(PermissionDenied):
        services.create_rule(by=agent, name="x", group=net)


# --- reroute ---------------------------------------------------------------------------------------


def test_reroute_after_recategorising(make_rule, net, requester, agent, triage):
    make_rule("Network", net, category=Category.objects.get(slug="network"))
    ticket = make_ticket(requester)
    assert ticket.group == triage
    ticket = ticket_services.update_ticket(
        ticket,
        by=agent,
        expected_version=ticket.version,
        changes={"category": Category.objects.get(slug="network-vpn")},
    )
    ticket = services.reroute(ticket, by=agent, expected_version=ticket.version)
    assert ticket.group == net
    routed = ticket.events.get(kind=TicketEvent.Kind.ROUTED)
    assert routed.data["rule"] == "Network" and routed.data["old_group"] == triage.name


def test_reroute_without_match_keeps_the_group(requester, agent, triage):
    ticket = make_ticket(requester)
    version = ticket.version
    ticket = services.reroute(ticket, by=agent, expected_version=version)
    assert ticket.group == triage
    assert ticket.version == version + 1
    assert ticket.events.get(kind=TicketEvent.Kind.ROUTED).data["rule"] is None


def test_requester_cannot_reroute(requester):
    ticket = make_ticket(requester)
    with pytest.raises(PermissionDenied):
        services.reroute(ticket, by=requester)
