"""Who may change service levels: administrators manage SLA policies and business calendars
(``None`` is Palier itself: the seed, commands; see ``people.permissions``).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["manage_policies", "manage_calendars"]


def can(user: User, action: Action, obj: object = None) -> bool:
    """May ``user`` do ``action``? Each is for active administrators only."""
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    """Refuse ``by`` with 403 unless an active administrator (or Palier itself, ``None``)."""
    messages = {
        "manage_policies": _("Only administrators can change SLA policies."),
        "manage_calendars": _("Only administrators can change business calendars."),
    }
    people_permissions.require_admin(by, message=messages[action])
