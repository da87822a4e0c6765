"""Who may change routing: administrators manage the routing rules and the escalation
defaults of categories (``None`` is Palier itself, see ``people.permissions``).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["manage_rules", "manage_escalation"]


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
