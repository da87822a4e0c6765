"""Reads for people: users, organisations, support groups and API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404

from palier.lib import text
from palier.people.models import ApiToken, Department, Membership, Organisation, SupportGroup, User

GROUP_IDS_ATTR = "_palier_group_ids"

MAX_WORDS = 5


def matching(qs: QuerySet[User], q: str) -> QuerySet[User]:
    """``qs`` narrowed to people whose name or email contains every word of ``q``, ignoring case
    and accents. ``%word%`` reads every row (no B-tree index helps; pg_trgm would), so callers
    keep the result bounded; the cost is one scan of the users table per search."""
    for word in text.normalise(q).split()[:MAX_WORDS]:
        qs = qs.filter(search_text__contains=word)
    return qs


def people_matching(q: str, *, limit: int = 10, active_only: bool = False) -> list[User]:
    """People whose name or email contains every word of ``q``, whatever the case and accents
    ("lea" finds "Léa"); the first ``limit`` by name, with their organisation (one query)."""
    if not text.normalise(q).split():
        return []
    qs = User.objects.select_related("organisation")
    if active_only:
        qs = qs.filter(is_active=True)
    return list(matching(qs, q).order_by("full_name", "email", "id")[:limit])


def users_for_admin(*, q: str = "", limit: int = 100) -> list[User]:
    """Users for the administration list, newest first, optionally matching ``q`` (name or email)."""
    qs = User.objects.filter(is_system=False).select_related("organisation").order_by("-date_joined", "-id")
    return list(matching(qs, q)[:limit])


def organisations_for_admin() -> list[Organisation]:
    return list(organisations_by_name())


def organisations_by_name() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("name")


def departments_with_organisation() -> QuerySet[Department]:
    """Every department with its organisation, by organisation then name."""
    return Department.objects.select_related("organisation").order_by("organisation__name", "name")


def departments_for_api(filters: dict[str, Any]) -> QuerySet[Department]:
    """Departments for the API's list, optionally of one organisation (``organisation`` id)."""
    qs = Department.objects.all()
    if filters.get("organisation") is not None:
        qs = qs.filter(organisation_id=filters["organisation"])
    if filters.get("q"):
        qs = qs.filter(name__icontains=str(filters["q"]))
    return qs


def get_department(department_id: int) -> Department:
    """One department, or 404."""
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise Http404("department")
    return department


def groups_for_admin() -> list[SupportGroup]:
    """Every support group with its members prefetched."""
    return list(SupportGroup.objects.prefetch_related("members").order_by("level", "name"))


def support_groups() -> QuerySet[SupportGroup]:
    return SupportGroup.objects.order_by("level", "name")


def groups_by_name() -> QuerySet[SupportGroup]:
    """Every support group by name, whatever its level (choice lists)."""
    return SupportGroup.objects.order_by("name")


def staff(*, with_system: bool = True) -> QuerySet[User]:
    """Active agents, managers and administrators by name; ``with_system=False`` leaves out
    Palier's own accounts (their addresses end in ``.invalid``)."""
    roles = [User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN]
    people = User.objects.filter(is_active=True, role__in=roles)
    if not with_system:
        people = people.exclude(email__endswith=".invalid")
    return people.order_by("full_name", "email")


def active_people() -> QuerySet[User]:
    """Active people of every role, Palier's own accounts (``.invalid`` addresses) left out."""
    return User.objects.filter(is_active=True).exclude(email__endswith=".invalid")


def active_people_with_emails(*, emails: list[str]) -> list[User]:
    """The active people whose address is one of ``emails`` (exactly as written)."""
    return list(User.objects.filter(email__in=emails, is_active=True))


def active_agents() -> QuerySet[User]:
    """Active agents, managers and administrators (people who can be assigned tickets)."""
    roles = [User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN]
    return User.objects.filter(is_active=True, is_system=False, role__in=roles).order_by("full_name", "email")


def group_ids_of(user: User) -> frozenset[int]:
    """The support groups ``user`` belongs to, read once per user object (that is, per request);
    the membership services forget it on the object they change."""
    cached: frozenset[int] | None = getattr(user, GROUP_IDS_ATTR, None)
    if cached is None:
        cached = frozenset(Membership.objects.filter(user_id=user.pk).values_list("group_id", flat=True))
        setattr(user, GROUP_IDS_ATTR, cached)
    return cached


def tokens_for(user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-id"))


def get_token_for(user: User, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens, or 404."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise Http404("token")
    return token


# --- single rows by id (a form or an API body names them; None when absent) ----------------------


def find_active_user(user_id: int) -> User | None:
    """An active person, with their organisation."""
    return User.objects.filter(pk=user_id, is_active=True).select_related("organisation").first()


def find_group(group_id: int) -> SupportGroup | None:
    return SupportGroup.objects.filter(pk=group_id).first()


def find_organisation(organisation_id: int) -> Organisation | None:
    return Organisation.objects.filter(pk=organisation_id).first()


def find_department(department_id: int) -> Department | None:
    return Department.objects.filter(pk=department_id).first()


# --- directory (the REST API's people endpoints) ---------------------------------------------------


def users_matching(q: str, *, role: str | None = None) -> QuerySet[User]:
    """People (not Palier's own accounts) matching ``q``, of ``role`` when given, with their
    organisation; unordered: the caller pages them."""
    qs = matching(User.objects.filter(is_system=False).select_related("organisation"), q)
    return qs.filter(role=role) if role else qs


def get_profile_for(viewer: User, user_id: int) -> User:
    """A user's profile with their organisation and support groups: agents see everyone, other
    people only themselves (anyone else is 404)."""
    if not viewer.is_agent and viewer.pk != user_id:
        raise Http404("user")
    if viewer.pk == user_id and viewer.is_active:
        # one's own profile: the row authentication read moments ago, its groups in one query
        # (the organisation's row only when there is one) instead of re-reading the user; the
        # user itself, not the session's lazy wrapper (callers lock and compare its class)
        viewer = getattr(viewer, "_wrapped", viewer)
        prefetch_related_objects([viewer], "support_groups")
        if viewer.organisation_id is not None:
            viewer.organisation  # noqa: B018 (loaded now, inside the selector)
        return viewer
    user = User.objects.select_related("organisation").prefetch_related("support_groups").filter(pk=user_id).first()
    if user is None:
        raise Http404("user")
    return user


def organisations_visible_to(viewer: User) -> QuerySet[Organisation]:
    """Every organisation for agents; a requester's own (none without one)."""
    if viewer.is_agent:
        return Organisation.objects.all()
    if viewer.organisation_id is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=viewer.organisation_id)


def groups_with_manager() -> QuerySet[SupportGroup]:
    """Every support group with its manager, unordered: the caller pages them."""
    return SupportGroup.objects.select_related("manager")


def get_group(group_id: int) -> SupportGroup:
    group = find_group(group_id)
    if group is None:
        raise Http404("group")
    return group


# --- administration pages -------------------------------------------------------------------------


def user_page_for_admin(
    *, q: str = "", role: str = "", active: bool | None = None, before: int | None = None, limit: int = 50
) -> tuple[list[User], int | None]:
    """Users newest first, filtered; keyset-paginated on the id. Returns (users, next ``before``)."""
    qs = User.objects.filter(is_system=False).select_related("organisation", "department").order_by("-id")
    qs = matching(qs, q)
    if role:
        qs = qs.filter(role=role)
    if active is not None:
        qs = qs.filter(is_active=active)
    if before is not None:
        qs = qs.filter(id__lt=before)
    rows = list(qs[: limit + 1])
    return rows[:limit], (rows[limit - 1].pk if len(rows) > limit else None)


def get_user_for_admin(user_id: int) -> User:
    user = User.objects.select_related("organisation", "department").filter(pk=user_id).first()
    if user is None:
        raise Http404("user")
    return user


def get_organisation_for_admin(organisation_id: int) -> Organisation:
    """One organisation with its departments prefetched, or 404."""
    organisation = Organisation.objects.prefetch_related("departments").filter(pk=organisation_id).first()
    if organisation is None:
        raise Http404("organisation")
    return organisation


def organisations_with_departments() -> list[Organisation]:
    return list(Organisation.objects.prefetch_related("departments").order_by("name"))


def get_group_for_admin(group_id: int) -> SupportGroup:
    group = SupportGroup.objects.select_related("manager").prefetch_related("members").filter(pk=group_id).first()
    if group is None:
        raise Http404("group")
    return group


def groups_with_members() -> list[SupportGroup]:
    """Every support group with its manager and members (two queries whatever the count)."""
    return list(SupportGroup.objects.select_related("manager").prefetch_related("members").order_by("level", "name"))


# --- the administration API -------------------------------------------------------------------------


def groups_for_api(filters: dict[str, Any]) -> QuerySet[SupportGroup]:
    """Support groups with their manager for the API's list: ``level``, ``is_vendor`` and ``q``
    (part of the name) filter them; unordered, the caller pages them."""
    qs = SupportGroup.objects.select_related("manager")
    if filters.get("level") is not None:
        qs = qs.filter(level=filters["level"])
    if filters.get("is_vendor") is not None:
        qs = qs.filter(is_vendor=filters["is_vendor"])
    if filters.get("q"):
        qs = qs.filter(name__icontains=str(filters["q"]))
    return qs


def get_group_with_manager(group_id: int) -> SupportGroup:
    """One support group with its manager, or 404."""
    group = SupportGroup.objects.select_related("manager").filter(pk=group_id).first()
    if group is None:
        raise Http404("group")
    return group


def group_memberships(group: SupportGroup) -> QuerySet[Membership]:
    """The memberships of ``group`` with their people, unordered: the caller pages them."""
    return Membership.objects.filter(group=group).select_related("user", "group")
