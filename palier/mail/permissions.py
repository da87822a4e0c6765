"""Who may change the mail intake: administrators manage the mailboxes and process quarantined
messages again (``None`` is Palier itself, see ``people.permissions``). The admin pages answer
404 to everyone else.
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["manage_mailboxes", "retry_messages"]


def can(user: User, action: Action, obj: object = None) -> bool:
    """May ``user`` do ``action``? Each is for active administrators only."""
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    """Refuse ``by`` with 403 unless an active administrator (or Palier itself, ``None``)."""
    messages = {
        "manage_mailboxes": _("Only administrators can manage mailboxes."),
        "retry_messages": _("Only administrators can process a quarantined message again."),
    }
    people_permissions.require_admin(by, message=messages[action])
