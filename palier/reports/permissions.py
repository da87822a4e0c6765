"""Who sees which figures: administrators every group; managers the groups they manage or belong
to; every agent their own personal figures; requesters none."""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people import permissions as people_permissions
from palier.people.models import Membership, SupportGroup, User

Action = Literal["view_team", "view_personal"]


def can(user: User, action: Action) -> bool:
    if not (user.is_authenticated and user.is_active and user.is_agent):
        return False
    if action == "view_personal":
        return True
    return people_permissions.is_admin(user) or user.role == User.Role.MANAGER


def report_groups(user: User, *, personal: bool) -> list[int] | None:
    """The group ids a report of ``user`` covers (None: every group). Refuses who may not look."""
    if not can(user, "view_personal" if personal else "view_team"):
        raise PermissionDenied(_("You cannot see these figures."))
    if people_permissions.is_admin(user):
        return None
    managed = set(SupportGroup.objects.filter(manager_id=user.pk).values_list("pk", flat=True))
    member = set(Membership.objects.filter(user_id=user.pk).values_list("group_id", flat=True))
    return sorted(managed | member)


# --- scheduled summaries and exports ------------------------------------------------------------------

SubscriptionAction = Literal["subscribe_summary", "subscribe_export"]


def can_subscribe(user: User, action: SubscriptionAction) -> bool:
    """Managers and administrators receive summaries of what they may see; only administrators
    email report exports to other addresses."""
    if action == "subscribe_export":
        return people_permissions.is_admin(user)
    return can(user, "view_team")


def can_manage_subscription(user: User, owner_id: int) -> bool:
    """A subscription is changed or removed by its owner, or by an administrator."""
    return people_permissions.is_admin(user) or bool(user.is_active and user.pk == owner_id)
