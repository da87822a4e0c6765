"""Who may act on what people are told: administrators send a failed email again (``None`` is
Palier itself, see ``people.permissions``)."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.people import permissions as people_permissions
from palier.people.models import User

Action = Literal["retry_email"]


def can(user: User, action: Action, obj: object = None) -> bool:
    return people_permissions.is_admin(user)


def require(by: User | None, action: Action) -> None:
    people_permissions.require_admin(by, message=_("Only administrators can send an email again."))
