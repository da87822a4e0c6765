"""Who may manage people, and the one administrator check every app's permissions build on.

Services name the person acting as ``by``; ``None`` is Palier itself acting (migrations, seeds,
the mail intake creating a sender's account, management commands), never a signed-in person:
interfaces always pass the authenticated user. Anyone else needs an active administrator
account (role "admin", or a superuser) for administration, and is refused with 403.
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people.models import ApiToken, User

Action = Literal["manage", "edit_profile", "manage_tokens"]


def is_admin(user: User | None) -> bool:
    """An active administrator."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_admin)


def require_admin(by: User | None, *, message: str) -> None:
    """Raise ``PermissionDenied(message)`` unless ``by`` is an active administrator or Palier itself."""
    if by is not None and not is_admin(by):
        raise PermissionDenied(message)


def can(user: User, action: Action, obj: User | ApiToken | None = None) -> bool:
    """May ``user`` do ``action``? ``manage`` (people, organisations, groups) is for administrators;
    a person's own profile fields (``obj`` is the person) and API tokens (``obj`` is the person or
    the token) are also theirs to change."""
    if is_admin(user):
        return True
    if action == "manage" or obj is None:
        return False
    owner_id = obj.user_id if isinstance(obj, ApiToken) else obj.pk
    return bool(owner_id == user.pk)


def require(by: User | None, action: Literal["manage"] = "manage") -> None:
    """The check of the people services that administrators alone may call."""
    require_admin(by, message=_("Only administrators can manage people and groups."))
