"""Escalation: automatic next level, chosen group or level, vendors, de-escalation, managers, paths."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.notifications.models import Notification
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.routing import services
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Comment, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
E = TicketEvent.Kind


@pytest.fixture
def levels(make_group, l2):
    """L2 (the conftest "Network L2"), an L3, and an L4 vendor."""
    l3 = make_group("Systems L3", level=3)
    vendor = make_group(
        "Acme Support",
        level=4,
        is_vendor=True,
        vendor_company="Acme Corp",
        vendor_contacts="support@acme.example\nnoc@acme.example",
        contract_reference="CT-2026-7",
    )
    return {"l2": l2, "l3": l3, "vendor": vendor}


def test_automatic_escalation_goes_to_the_next_level(levels, requester, agent, triage):
    ticket = make_ticket(requester, by=agent, assignee=agent, group=triage)
    ticket = services.escalate(ticket, by=agent, reason="Needs network diagnosis", expected_version=ticket.version)
    assert ticket.group == levels["l2"] and ticket.assignee is None
    event = ticket.events.get(kind=E.ESCALATED)
    assert event.data.items() >= {"from_level": 1, "to_level": 2, "reason": "Needs network diagnosis"}.items()
    assert event.data["from_group"] == triage.name and event.data["to_group"] == levels["l2"].name
    note = Comment.objects.get(ticket=ticket)
    assert note.is_internal and note.body == "Needs network diagnosis"


def test_category_default_wins_over_first_group(levels, make_group, requester, agent, admin_user):
    other_l2 = make_group("AAA first alphabetically", level=2)
    network = Category.objects.get(slug="network")
    services.set_category_level_default(by=admin_user, category=network, level=2, group=levels["l2"])
    vpn_ticket = make_ticket(requester, category=Category.objects.get(slug="network-vpn"))
    assert services.escalate(vpn_ticket, by=agent, reason="r").group == levels["l2"]
    plain = make_ticket(requester)
    assert services.escalate(plain, by=agent, reason="r").group == other_l2


def test_group_escalation_group_is_followed(levels, requester, agent, triage):
    people.update_group(triage, by=None, name=triage.name, level=1, members=[agent], escalation_group=levels["l3"])
    ticket = services.escalate(make_ticket(requester), by=agent, reason="Server down")
    assert ticket.group == levels["l3"]


def test_chosen_group_and_level(levels, requester, agent):
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_group=levels["l3"])
    assert ticket.group == levels["l3"]
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_level=3)
    assert ticket.group == levels["l3"]


def test_reason_is_required_from_people(levels, requester, agent):
    ticket = make_ticket(requester)
    with pytest.raises(ValidationError) as exc:
        services.escalate(ticket, by=agent, reason="   ")
    assert "reason" in exc.value.error_dict
    ticket.refresh_from_db()
    assert ticket.group.is_triage and not ticket.events.filter(kind=E.ESCALATED).exists()


def test_system_escalation_keeps_the_reason_in_the_event_only(levels, requester):
    ticket = services.escalate(make_ticket(requester), by=None, reason="SLA breached: resolution")
    assert ticket.events.get(kind=E.ESCALATED).data["reason"] == "SLA breached: resolution"
    assert not Comment.objects.filter(ticket=ticket).exists()


def test_above_l5_and_same_group_refused(make_group, requester, agent, admin_user):
    l5 = make_group("Top", level=5)
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_group=l5)
    with pytest.raises(ValidationError, match="L5"):
        services.escalate(ticket, by=admin_user, reason="r")
    with pytest.raises(ValidationError):
        services.escalate(ticket, by=admin_user, reason="r", to_level=6)
    with pytest.raises(ValidationError):
        services.escalate(ticket, by=admin_user, reason="r", to_group=l5)


def test_no_group_at_next_level_is_a_clear_error(requester, agent):
    with pytest.raises(ValidationError, match="L2"):
        services.escalate(make_ticket(requester), by=agent, reason="r")


def test_vendor_escalation_records_the_context(levels, requester, agent, admin_user):
    ticket = make_ticket(requester, subject="SAN controller fault")
    ticket = services.escalate(ticket, by=agent, reason="Hardware under contract", to_group=levels["vendor"])
    vendor_event = ticket.events.get(kind=E.VENDOR)
    assert vendor_event.data["to"] == ["support@acme.example", "noc@acme.example"]
    assert vendor_event.data["subject"] == "SAN controller fault"
    assert vendor_event.data["reference"] == ticket.reference
    assert vendor_event.data["contract_reference"] == "CT-2026-7"
    ticket = services.set_vendor_reference(
        ticket, by=admin_user, reference=" ACME-4411 ", expected_version=ticket.version
    )
    assert ticket.vendor_reference == "ACME-4411"
    assert ticket.events.filter(kind=E.CHANGED, data__field="vendor_reference").exists()


def test_automatic_escalation_skips_vendor_groups(levels, requester, agent, admin_user):
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_group=levels["l3"])
    with pytest.raises(ValidationError, match="L4"):
        services.escalate(ticket, by=admin_user, reason="r")


def test_deescalation(levels, requester, agent, triage, admin_user):
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_group=levels["l3"])
    ticket = services.deescalate(ticket, by=admin_user, reason="Back to L2: server fixed, network left")
    assert ticket.group == levels["l2"]
    event = ticket.events.get(kind=E.DEESCALATED)
    assert (event.data["from_level"], event.data["to_level"]) == (3, 2)
    # escalating to a lower group by choice is recorded as a de-escalation
    ticket = services.escalate(ticket, by=admin_user, reason="r", to_group=triage)
    assert ticket.events.filter(kind=E.DEESCALATED).count() == 2
    with pytest.raises(ValidationError, match="L1"):
        services.deescalate(ticket, by=agent, reason="r")


def test_managers_notified_up_the_chain(levels, requester, agent, admin_user):
    boss = people.create_user(email="boss@desk.test", role=User.Role.MANAGER)
    director = people.create_user(email="dir@desk.test", role=User.Role.MANAGER)
    lead = people.create_user(email="lead@desk.test", role=User.Role.MANAGER)
    people.update_user(lead, by=None, manager=boss)
    people.update_user(boss, by=None, manager=director)
    for group in (levels["l2"], levels["l3"]):
        people.update_group(group, by=None, name=group.name, level=group.level, manager=lead)
    ticket = services.escalate(make_ticket(requester), by=agent, reason="first")
    assert Notification.objects.filter(recipient=lead, kind=Notification.Kind.ESCALATED).count() == 1
    assert not Notification.objects.filter(kind=Notification.Kind.ESCALATION_MANAGER).exists()
    ticket = services.escalate(ticket, by=admin_user, reason="second")
    assert list(
        Notification.objects.filter(kind=Notification.Kind.ESCALATION_MANAGER).values_list(
            "recipient__email", flat=True
        )
    ) == ["boss@desk.test"]
    ticket = services.deescalate(ticket, by=admin_user, reason="down")
    services.escalate(ticket, by=admin_user, reason="third")
    assert set(
        Notification.objects.filter(kind=Notification.Kind.ESCALATION_MANAGER).values_list(
            "recipient__email", flat=True
        )
    ) == {"boss@desk.test", "dir@desk.test"}


def test_resolved_level_is_the_level_where_resolved(levels, requester, agent):
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_group=levels["l3"])
    people.add_group_member(levels["l3"], user=agent)
    ticket = ticket_services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent})
    ticket = ticket_services.transition_ticket(ticket, to="resolved", by=agent)
    assert ticket.resolved_level == 3


def test_escalation_assigns_in_the_new_group(make_group, requester, agent):
    l2 = make_group("Auto L2", level=2, strategy="round_robin", agents=1)
    ticket = services.escalate(make_ticket(requester), by=agent, reason="r", to_group=l2)
    assert ticket.assignee == l2.members.get()


def test_requester_cannot_escalate(levels, requester):
    with pytest.raises(PermissionDenied):
        services.escalate(make_ticket(requester), by=requester, reason="please")


def test_closed_ticket_cannot_change_level(levels, requester, agent):
    ticket = make_ticket(requester)
    ticket = ticket_services.transition_ticket(ticket, to="cancelled", by=agent)
    with pytest.raises(IllegalTransition):
        services.escalate(ticket, by=agent, reason="r")


# --- escalation paths --------------------------------------------------------------------------------


def test_cycle_refused_on_save(make_group):
    a = make_group("A", level=2)
    b = make_group("B", level=2)
    people.update_group(a, by=None, name="A", level=2, escalation_group=b)
    with pytest.raises(ValidationError, match="loop"):
        people.update_group(b, by=None, name="B", level=2, escalation_group=a)
    with pytest.raises(ValidationError):
        people.update_group(a, by=None, name="A", level=2, escalation_group=a)
    b.refresh_from_db()
    assert b.escalation_group is None


def test_broken_path_falls_back_and_says_why(levels, make_group, requester, admin_user):
    a = make_group("Loop A", level=1)
    b = make_group("Loop B", level=1)
    # written behind the services' back (an old import, a race): the loop must not crash escalation
    SupportGroup.objects.filter(pk=a.pk).update(escalation_group=b)
    SupportGroup.objects.filter(pk=b.pk).update(escalation_group=a)
    ticket = make_ticket(requester, by=admin_user, group=a)
    ticket = services.escalate(ticket, by=admin_user, reason="r")
    assert ticket.group == levels["l2"]
    assert ticket.events.get(kind=E.ESCALATED).data["fallback"] == "the escalation path loops"


def test_vendor_fields_validated(make_group, l2):
    vendor = make_group("Vendor", level=4, is_vendor=True)
    with pytest.raises(ValidationError, match="not-an-email"):
        people.update_group(
            vendor, by=None, name="Vendor", level=4, is_vendor=True, vendor_contacts="ok@x.example\nnot-an-email"
        )
    with pytest.raises(ValidationError):
        people.update_group(l2, by=None, name=l2.name, level=2, vendor_company="Acme")
    with pytest.raises(ValidationError):
        people.update_group(l2, by=None, name=l2.name, level=2, is_vendor=True)
    with pytest.raises(ValidationError):
        people.update_group(l2, by=None, name=l2.name, level=2, assignment_strategy="lottery")
