"""Who may use and who may manage macros: the one rule source.

* Every agent uses the active macros shared with everyone, those shared with a group they belong
  to, and their own personal ones.
* Agents create, edit and delete their personal macros; admins manage every macro, including the
  shared ones (group and everyone).
"""

from __future__ import annotations

from django.db.models import Q

from palier.macros.models import Macro
from palier.people.models import Membership, User

V = Macro.Visibility


def _active_agent(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_agent)


def usable(user: User) -> Q:
    """A filter on Macro: the macros ``user`` may pick in the reply box."""
    if not _active_agent(user):
        return Q(pk__in=[])
    groups = Membership.objects.filter(user_id=user.pk).values("group_id")
    return Q(is_active=True) & (
        Q(visibility=V.EVERYONE) | Q(visibility=V.GROUP, group__in=groups) | Q(visibility=V.PERSONAL, owner_id=user.pk)
    )


def manageable(user: User) -> Q:
    """A filter on Macro: the macros ``user`` may edit and delete (active or not)."""
    if not _active_agent(user):
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    return Q(visibility=V.PERSONAL, owner_id=user.pk)


def can_share(user: User) -> bool:
    """May ``user`` give a macro another visibility than "only me"?"""
    return _active_agent(user) and user.is_admin


def can(user: User, action: str, macro: Macro) -> bool:
    if action == "use":
        if not (_active_agent(user) and macro.is_active):
            return False
        if macro.visibility == V.EVERYONE:
            return True
        if macro.visibility == V.PERSONAL:
            return macro.owner_id == user.pk
        return Membership.objects.filter(user_id=user.pk, group_id=macro.group_id).exists()
    if action in {"change", "delete"}:
        return _active_agent(user) and (user.is_admin or (macro.visibility == V.PERSONAL and macro.owner_id == user.pk))
    return False
