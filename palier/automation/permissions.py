"""Who may change automation: administrators manage the automation rules and the recurring
tickets (``None`` is Palier itself, see ``people.permissions``).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["manage_rules", "manage_recurring"]


def can(user: User, action: Action, obj: object = None) -> bool:
    """May ``user`` do ``action``? Each is for active administrators only."""
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    """Refuse ``by`` with 403 unless an active administrator (or Palier itself, ``None``)."""
    messages = {
        "manage_rules": _("Only administrators can manage automation rules."),
        "manage_recurring": _("Only administrators can manage recurring tickets."),
    }
    people_permissions.require_admin(by, message=messages[action])
