from __future__ import annotations

import pytest

from palier.lib.errors import PermissionDenied
from palier.routing import permissions


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("manage_rules", "Only administrators can manage routing rules."),
        ("manage_escalation", "Only administrators can change escalation defaults."),
    ],
)
def test_administrators_alone_may(action, message, admin_user, manager):
    assert permissions.can(admin_user, action)
    assert not permissions.can(manager, action)
    permissions.require(admin_user, action)
    permissions.require(None, action)  # Palier itself
    with pytest.raises(PermissionDenied, match=message):
        permissions.require(manager, action)


def test_an_agents_availability_is_theirs_their_managers_and_the_admins(agent, agent_l2, manager, admin_user):
    may = permissions.can_for_agent
    assert may(agent, "manage_availability", agent)  # their own switch, hours and absences
    assert may(manager, "manage_availability", agent)  # manages the triage group Léa is in
    assert may(admin_user, "manage_availability", agent_l2)
    assert may(None, "manage_availability", agent)  # Palier itself
    assert not may(agent_l2, "manage_availability", agent)  # a colleague of another group
    assert not may(manager, "manage_availability", agent_l2)  # not one of Nina's groups
    with pytest.raises(PermissionDenied, match="Only the agent, their group's manager"):
        permissions.require_for_agent(agent_l2, "manage_availability", agent)


def test_requeueing_an_agents_tickets_is_for_their_managers_and_the_admins(agent, agent_l2, manager, admin_user):
    may = permissions.can_for_agent
    assert may(manager, "requeue", agent) and may(admin_user, "requeue", agent)
    assert may(manager, "requeue", manager)  # a manager may hand back their own tickets
    assert not may(agent, "requeue", agent)  # an agent may not drop their own tickets
    assert not may(manager, "requeue", agent_l2)
    with pytest.raises(PermissionDenied, match="requeue an agent's tickets"):
        permissions.require_for_agent(agent, "requeue", agent)
