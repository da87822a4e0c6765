"""Who may change routing: administrators manage the routing rules and the escalation
defaults of categories; an agent's availability, hours, skills and absences are theirs, their
groups' managers' and the administrators' to change; requeueing an agent's tickets is for the
managers and administrators (``None`` is Palier itself, see ``people.permissions``).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people import permissions as people_permissions
from palier.people.models import Membership, User

Action = Literal["manage_rules", "manage_escalation"]
AgentAction = Literal["manage_availability", "requeue"]


def can(user: User, action: Action, obj: object = None) -> bool:
    """May ``user`` do ``action``? Each is for active administrators only."""
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    """Refuse ``by`` with 403 unless an active administrator (or Palier itself, ``None``)."""
    messages = {
        "manage_rules": _("Only administrators can manage routing rules."),
        "manage_escalation": _("Only administrators can change escalation defaults."),
    }
    people_permissions.require_admin(by, message=messages[action])


def can_for_agent(by: User | None, action: AgentAction, agent: User) -> bool:
    """May ``by`` change ``agent``'s availability (``manage_availability``: the agent, a manager of
    one of their groups, an administrator) or requeue their tickets (``requeue``: managers, themselves included, and administrators)?"""
    if by is None or people_permissions.is_admin(by):
        return True
    if by.pk == agent.pk and (action == "manage_availability" or by.role == User.Role.MANAGER):
        return True
    if by.role != User.Role.MANAGER:
        return False
    return Membership.objects.filter(user=agent, group__manager=by).exists()


def require_for_agent(by: User | None, action: AgentAction, agent: User) -> None:
    """Refuse ``by`` with 403 unless ``can_for_agent``."""
    if not can_for_agent(by, action, agent):
        messages = {
            "manage_availability": _("Only the agent, their group's manager or an administrator can do this."),
            "requeue": _("Only their group's manager or an administrator can requeue an agent's tickets."),
        }
        raise PermissionDenied(messages[action])
