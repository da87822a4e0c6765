"""Who may manage webhook subscriptions: active administrators only (``None`` is Palier itself,
see ``people.permissions``); everyone else gets 403 from the API and 404 from the pages."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["manage"]


def can(user: User, action: Action, obj: object = None) -> bool:
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action = "manage") -> None:
    people_permissions.require_admin(by, message=_("Only administrators can manage webhook subscriptions."))
