"""The changes other apps make to a ticket (``services/changes.py``): priority overrides, moves to
a group, escalation steps, routing again, the vendor's reference, the SLA's due time; and the
catalog's reply and task link (``services/conversation.py``)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import IllegalTransition, StaleVersion
from palier.people.models import SupportGroup, User
from palier.tickets import hooks, services
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

E = TicketEvent.Kind
S = Ticket.Status

pytestmark = pytest.mark.django_db


def _events(ticket: Ticket) -> list[tuple[str, dict[str, object]]]:
    return [(e.kind, e.data) for e in TicketEvent.objects.filter(ticket=ticket).order_by("pk")]


def _resolution_policy(ticket: Ticket) -> str:
    from palier.sla.models import Clock

    clock = Clock.objects.filter(ticket=ticket, kind=Clock.Kind.RESOLUTION).order_by("-pk").first()
    assert clock is not None and clock.policy is not None
    return clock.policy.name


def _round_robin(group: SupportGroup) -> SupportGroup:
    SupportGroup.objects.filter(pk=group.pk).update(assignment_strategy=SupportGroup.Strategy.ROUND_ROBIN)
    group.refresh_from_db()
    return group


# --- priority ---------------------------------------------------------------------------------------


def test_a_stale_priority_override_is_refused_and_changes_nothing(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    before = _events(ticket)
    with pytest.raises(StaleVersion):
        services.override_priority(ticket, priority=1, by=agent, reason="VIP", expected_version=ticket.version + 1)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.priority, fresh.version) == (ticket.priority, ticket.version)
    assert _events(fresh) == before


def test_a_priority_override_records_one_event_with_its_reason_and_runs_the_hooks(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    assert (ticket.priority, _resolution_policy(ticket)) == (4, "P4 - Low")
    changed = services.override_priority(
        ticket, priority=2, by=agent, reason="the director's laptop", expected_version=ticket.version
    )
    assert (changed.priority, changed.version) == (2, ticket.version + 1)
    events = TicketEvent.objects.filter(ticket=ticket, kind=E.CHANGED)
    assert [(e.data, e.actor) for e in events] == [
        ({"field": "priority", "old": 4, "new": 2, "reason": "the director's laptop"}, agent)
    ]
    assert _resolution_policy(ticket) != "P4 - Low"  # the SLA hook re-targeted the clocks


def test_a_priority_override_without_reason_or_change(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    changed = services.override_priority(ticket, priority=3, by=None)
    assert TicketEvent.objects.get(ticket=ticket, kind=E.CHANGED).data == {"field": "priority", "old": 4, "new": 3}
    again = services.override_priority(changed, priority=3, by=agent)
    assert again.version == changed.version
    assert TicketEvent.objects.filter(ticket=ticket, kind=E.CHANGED).count() == 1
    with pytest.raises(ValidationError):
        services.override_priority(ticket, priority=7, by=agent)


def test_the_sla_raises_an_open_tickets_priority_one_step(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    assert services.raise_priority(ticket.pk, by=None, reason="sla-breach") is True
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == (3, 2)
    event = TicketEvent.objects.get(ticket=ticket, kind=E.CHANGED)
    assert (event.data, event.actor) == ({"field": "priority", "old": 4, "new": 3, "reason": "sla-breach"}, None)
    assert _resolution_policy(ticket) == "P3 - Medium"


def test_the_sla_leaves_p1_closed_and_missing_tickets_alone(requester: User, agent: User) -> None:
    urgent = make_ticket(requester, impact="high", urgency="high")
    done = make_ticket(requester)
    services.transition_ticket(done, to=S.CANCELLED, by=agent)
    assert urgent.priority == 1
    assert services.raise_priority(urgent.pk, by=None, reason="sla-warning") is False
    assert services.raise_priority(done.pk, by=None, reason="sla-warning") is False
    assert services.raise_priority(999_999, by=None, reason="sla-warning") is False
    assert not TicketEvent.objects.filter(kind=E.CHANGED, data__field="priority").exists()


# --- groups -------------------------------------------------------------------------------------------


def test_moving_without_auto_assignment_leaves_the_ticket_in_the_queue(
    requester: User, agent: User, agent_l2: User, l2: SupportGroup
) -> None:
    _round_robin(l2)
    ticket = services.update_ticket(
        make_ticket(requester), by=agent, expected_version=None, changes={"assignee": agent}
    )
    moved = services.move_to_group(ticket, group=l2, by=agent, auto_assign=False, expected_version=ticket.version)
    assert (moved.group_id, moved.assignee_id, moved.status) == (l2.pk, None, S.NEW)
    fields = [data["field"] for kind, data in _events(moved) if kind == E.CHANGED]
    assert fields[-2:] == ["group", "assignee"]  # released: not a member of L2
    assert moved.version == ticket.version + 1


def test_moving_with_auto_assignment_gives_the_ticket_to_a_member(
    requester: User, agent: User, agent_l2: User, l2: SupportGroup
) -> None:
    _round_robin(l2)
    ticket = make_ticket(requester)
    moved = services.move_to_group(ticket, group=l2, by=agent, auto_assign=True)
    assert (moved.group_id, moved.assignee_id, moved.status) == (l2.pk, agent_l2.pk, S.ASSIGNED)
    group, assignment = TicketEvent.objects.filter(ticket=ticket, kind=E.CHANGED).order_by("pk")
    assert (group.data["field"], group.actor) == ("group", agent)
    assert (assignment.data["field"], assignment.actor) == ("assignee", None)  # the desk assigns
    again = services.move_to_group(moved, group=l2, by=agent_l2, auto_assign=True, assign_as=agent_l2)
    assert again.version == moved.version  # already there and assigned: nothing to do


def test_a_stale_move_is_refused_and_changes_nothing(requester: User, agent: User, l2: SupportGroup) -> None:
    ticket = make_ticket(requester)
    before = _events(ticket)
    with pytest.raises(StaleVersion):
        services.move_to_group(ticket, group=l2, by=agent, auto_assign=True, expected_version=ticket.version - 1)
    assert Ticket.objects.get(pk=ticket.pk).group_id == ticket.group_id
    assert _events(ticket) == before


def test_routing_registers_the_assignment_hook() -> None:
    from palier.routing.services.assignment import assign_in_group

    assert assign_in_group in hooks.assigners


# --- escalation steps -------------------------------------------------------------------------------------


def test_changing_level_releases_the_assignee_and_records_the_step(
    requester: User, agent: User, agent_l2: User, triage: SupportGroup, l2: SupportGroup
) -> None:
    _round_robin(l2)
    ticket = services.update_ticket(
        make_ticket(requester), by=agent, expected_version=None, changes={"assignee": agent}
    )
    moved, event = services.change_level(ticket, group=l2, by=agent, reason="needs the network team", fallback="x")
    assert (moved.group_id, moved.assignee_id) == (l2.pk, None)  # the caller assigns, after telling L2
    assert event.kind == E.ESCALATED and event.is_internal and event.actor == agent
    assert event.data == {
        "from_group": triage.name,
        "to_group": l2.name,
        "from_level": 1,
        "to_level": 2,
        "reason": "needs the network team",
        "fallback": "x",
    }
    back, event = services.change_level(moved, group=triage, by=None, reason="wrong level")
    assert event.kind == E.DEESCALATED and "fallback" not in event.data
    assert back.version == moved.version + 1


def test_changing_level_is_refused_on_a_closed_or_stale_ticket(requester: User, agent: User, l2: SupportGroup) -> None:
    ticket = make_ticket(requester)
    with pytest.raises(StaleVersion):
        services.change_level(ticket, group=l2, by=agent, reason="r", expected_version=ticket.version + 3)
    cancelled = services.transition_ticket(ticket, to=S.CANCELLED, by=agent)
    before = _events(cancelled)
    with pytest.raises(IllegalTransition):
        services.change_level(cancelled, group=l2, by=agent, reason="r")
    assert Ticket.objects.get(pk=ticket.pk).group_id == ticket.group_id
    assert _events(cancelled) == before


def test_routing_again_without_a_rule_only_records_it(requester: User, agent: User, triage: SupportGroup) -> None:
    ticket = make_ticket(requester)
    routed = services.route_ticket(ticket, by=agent, rule=None, expected_version=ticket.version)
    assert routed.version == ticket.version + 1
    assert _events(routed)[-1] == (E.ROUTED, {"rule": None, "group": triage.name})


def test_routing_again_applies_the_rule(requester: User, agent: User, triage: SupportGroup, l2: SupportGroup) -> None:
    ticket = make_ticket(requester)
    routed = services.route_ticket(
        ticket, by=agent, rule="Network", group=l2, changes={"group": l2, "tags": ["wifi"]}, priority=2
    )
    assert (routed.group_id, routed.priority, routed.version) == (l2.pk, 2, ticket.version + 2)
    kinds = [(kind, data.get("field")) for kind, data in _events(routed)]
    assert kinds[1:] == [(E.ROUTED, None), (E.CHANGED, "tags"), (E.CHANGED, "group"), (E.CHANGED, "priority")]
    with pytest.raises(StaleVersion):
        services.route_ticket(routed, by=agent, rule=None, expected_version=ticket.version)


# --- vendors ------------------------------------------------------------------------------------------


def test_the_vendor_reference_is_recorded_once(requester: User, agent: User) -> None:
    ticket = make_ticket(requester)
    with pytest.raises(StaleVersion):
        services.set_vendor_reference(ticket, by=agent, reference="CASE-1", expected_version=ticket.version + 1)
    with pytest.raises(ValidationError):
        services.set_vendor_reference(ticket, by=agent, reference="x" * 101)
    changed = services.set_vendor_reference(ticket, by=agent, reference=" CASE-1 ", expected_version=ticket.version)
    assert (changed.vendor_reference, changed.version) == ("CASE-1", ticket.version + 1)
    same = services.set_vendor_reference(changed, by=agent, reference="CASE-1")
    assert same.version == changed.version
    event = TicketEvent.objects.get(ticket=ticket, kind=E.CHANGED)
    assert event.data == {"field": "vendor_reference", "old": "", "new": "CASE-1"} and event.is_internal


def test_lock_ticket_checks_the_version(requester: User) -> None:
    ticket = make_ticket(requester)
    assert services.lock_ticket(ticket, expected_version=ticket.version).pk == ticket.pk
    with pytest.raises(StaleVersion):
        services.lock_ticket(ticket, expected_version=ticket.version + 1)


# --- SLA due time, catalog ------------------------------------------------------------------------------


def test_the_sla_due_time_is_stored_without_history(requester: User) -> None:
    from datetime import timedelta

    ticket = make_ticket(requester)
    before = _events(ticket)
    due = ticket.created_at + timedelta(hours=3)
    services.set_sla_due(ticket, due=due)
    other = make_ticket(requester)
    other.sla_due_at = None
    services.set_sla_dues([other])
    assert Ticket.objects.get(pk=ticket.pk).sla_due_at == due
    assert Ticket.objects.get(pk=other.pk).sla_due_at is None
    assert Ticket.objects.get(pk=ticket.pk).version == ticket.version
    assert _events(ticket) == before


def test_a_reply_recorded_for_an_approver_and_a_task_link(requester: User, outsider: User) -> None:
    parent = make_ticket(requester, kind="request")
    child = make_ticket(requester, kind="request")
    comment = services.record_reply(parent, author=outsider, body="Rejected: no budget")
    assert (comment.is_internal, comment.author, comment.body) == (False, outsider, "Rejected: no budget")
    assert _events(parent)[-1] == (E.COMMENTED, {"comment": comment.pk})
    link = services.link_task(parent, child=child)
    assert (link.source, link.target, link.kind) == (parent, child, "parent")
    linked = [data for kind, data in _events(child) if kind == E.LINKED]
    assert linked == [{"link": "parent", "other": parent.reference, "direction": "in"}]
    assert not [kind for kind, _data in _events(parent) if kind == E.LINKED]  # the catalog tells the parent
