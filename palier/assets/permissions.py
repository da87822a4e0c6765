"""The one place that decides who may see and change which asset (docs/assets.md, "Who sees what").

- Administrators: every asset.
- Agents and managers: the desk's shared CMDB (assets without an owner group), the assets owned by
  one of their groups (or a group they manage), and the assets they use themselves; with
  ``PALIER_AGENTS_SEE_ALL`` every asset. They may change what they see, except assets they see
  only as their user.
- Requesters: the assets assigned to them, read-only; they may link those (and only those) to
  their own tickets.

An asset someone may not see answers 404, never 403.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.db.models import Q

from palier.people import selectors as people_selectors
from palier.people.models import Membership, User

from .models import Asset

Action = Literal["view", "change", "link"]


def visible(user: User) -> Q:
    """A filter on Asset selecting what ``user`` may see."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_admin:
        return Q()
    mine = Q(assigned_to_id=user.pk)
    if user.is_agent:
        if settings.PALIER_AGENTS_SEE_ALL:
            return Q()
        return _staff(user) | mine
    return mine


def _staff(user: User) -> Q:
    # the memberships as a subquery: a filter costs no query of its own (the ticket page's panels)
    groups = Membership.objects.filter(user_id=user.pk).values("group_id")
    managed = Q(owner_group__manager_id=user.pk) if user.role == User.Role.MANAGER else Q(pk__in=[])
    return Q(owner_group__isnull=True) | Q(owner_group_id__in=groups) | managed


def can(user: User, action: Action, asset: Asset) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if action == "view":
        return Asset.objects.filter(visible(user), pk=asset.pk).exists() if asset.pk else False
    if user.is_agent:
        if settings.PALIER_AGENTS_SEE_ALL:
            return True
        if asset.owner_group_id is None or asset.owner_group_id in people_selectors.group_ids_of(user):
            return True
        return (
            user.role == User.Role.MANAGER and asset.owner_group is not None and asset.owner_group.manager_id == user.pk
        )
    # requesters: only link their own assets to their own tickets
    return action == "link" and asset.assigned_to_id == user.pk


def can_manage_catalogue(user: User) -> bool:
    """Types, locations, suppliers, inventory tokens: administrators only."""
    return bool(user.is_authenticated and user.is_active and user.is_admin)
