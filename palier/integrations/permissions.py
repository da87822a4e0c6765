"""Who may change integrations: administrators manage chat apps, linked chat identities and
alert sources (``None`` is Palier itself, see ``people.permissions``).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["manage"]


def can(user: User, action: Action, obj: object = None) -> bool:
    """May ``user`` do ``action``? Each is for active administrators only."""
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    """Refuse ``by`` with 403 unless an active administrator (or Palier itself, ``None``)."""
    people_permissions.require_admin(by, message=_("Only administrators can manage integrations."))
