"""Who may see and do what with changes (docs/changes.md, "Who does what").

- Changes are internal records: agents, managers and administrators see them all.
- Any agent may raise a change and work it through its lifecycle.
- Board members decide only the approvals they are asked for (the catalog's approval engine
  checks that, ``catalog.permissions.can_decide``).
- Administrators define the templates, the risk questionnaire, the boards and approval path,
  the freeze windows and the services' maintenance windows.
"""

from __future__ import annotations

from typing import Literal

from django.db.models import Q

from palier.people.models import User

Action = Literal["view", "edit", "administer"]


def visible(user: User) -> Q:
    if user.is_authenticated and user.is_active and user.is_agent:
        return Q()
    return Q(pk__in=[])


def can(user: User | None, action: Action) -> bool:
    if user is None or not user.is_authenticated or not user.is_active or not user.is_agent:
        return False
    if action == "administer":
        return user.is_admin
    return True
