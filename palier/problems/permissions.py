"""Who may see and do what with problems and major incidents (docs/problems.md, "Who does what").

- Problems are internal records: agents, managers and administrators see them all; requesters
  see none (they read a problem's workaround only as a reply on their own incident).
- Any agent may open a problem, edit it and link incidents they can see.
- Problem managers (managers and administrators) also resolve and close problems, notify the
  requesters of linked incidents, see the candidates, and change the candidates' settings.
- Managers and administrators declare an incident major and publish its status notes; any agent
  may attach incidents to a major incident and add to its communication log.

Linking an incident checks the ticket's own rule (``tickets.permissions``): an incident the
user may not see is refused as if it did not exist.
"""

from __future__ import annotations

from typing import Literal

from django.db.models import Q

from palier.people.models import User

Action = Literal["view", "edit", "manage", "declare_major", "publish"]


def _active(user: User | None) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def is_problem_manager(user: User | None) -> bool:
    return _active(user) and user is not None and (user.is_admin or user.role == User.Role.MANAGER)


def visible(user: User) -> Q:
    """A filter on Problem (and MajorIncident) selecting what ``user`` may see."""
    if _active(user) and user.is_agent:
        return Q()
    return Q(pk__in=[])


def can(user: User | None, action: Action) -> bool:
    if not _active(user) or user is None or not user.is_agent:
        return False
    if action in ("view", "edit"):
        return True
    return is_problem_manager(user)
