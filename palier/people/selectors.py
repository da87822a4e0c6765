"""Reads for people: users, organisations, support groups and API tokens."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from palier.people.models import ApiToken, Organisation, SupportGroup, User


def users_for_admin(*, q: str = "", limit: int = 100) -> list[User]:
    """Users for the administration list, newest first, optionally matching ``q`` (name or email)."""
    qs = User.objects.select_related("organisation").order_by("-date_joined", "-id")
    q = q.strip()
    if q:
        qs = qs.filter(Q(email__icontains=q) | Q(full_name__icontains=q))
    return list(qs[:limit])


def organisations_for_admin() -> list[Organisation]:
    return list(Organisation.objects.order_by("name"))


def groups_for_admin() -> list[SupportGroup]:
    """Every support group with its members prefetched."""
    return list(SupportGroup.objects.prefetch_related("members").order_by("level", "name"))


def support_groups() -> QuerySet[SupportGroup]:
    return SupportGroup.objects.order_by("level", "name")


def active_agents() -> QuerySet[User]:
    """Active agents, managers and administrators (people who can be assigned tickets)."""
    roles = [User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN]
    return User.objects.filter(is_active=True, role__in=roles).order_by("full_name", "email")


def tokens_for(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def get_token_for(user: User, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens, or 404."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise Http404("token")
    return token
