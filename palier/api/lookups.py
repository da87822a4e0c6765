"""Reads the API needs that have no selector module yet: ids in a body turned into objects, and
the people lists. A missing id answers 422 on its field; nothing here writes.

Ticket reads go through ``palier.tickets.selectors``; these could move to a
``palier/people/selectors.py`` when the pages need them too.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from palier.people import selectors as people_selectors
from palier.people.models import ApiToken, Department, Organisation, SupportGroup, User
from palier.tickets.models import Category


def _missing(field: str) -> ValidationError:
    return ValidationError({field: _("No such item (id not found).")})


def user_by_id(pk: int, *, field: str = "user") -> User:
    user = User.objects.filter(pk=pk, is_active=True).select_related("organisation").first()
    if user is None:
        raise _missing(field)
    return user


def group_by_id(pk: int, *, field: str = "group") -> SupportGroup:
    group = SupportGroup.objects.filter(pk=pk).first()
    if group is None:
        raise _missing(field)
    return group


def category_by_id(pk: int, *, field: str = "category") -> Category:
    category = Category.objects.filter(pk=pk).first()
    if category is None:
        raise _missing(field)
    return category


def organisation_by_id(pk: int, *, field: str = "organisation") -> Organisation:
    organisation = Organisation.objects.filter(pk=pk).first()
    if organisation is None:
        raise _missing(field)
    return organisation


def department_by_id(pk: int, *, field: str = "department") -> Department:
    department = Department.objects.filter(pk=pk).first()
    if department is None:
        raise _missing(field)
    return department


def users_matching(q: str, *, role: str | None = None) -> QuerySet[User]:
    qs = people_selectors.matching(User.objects.filter(is_system=False).select_related("organisation"), q)
    if role:
        qs = qs.filter(role=role)
    return qs


def user_for_agent(viewer: User, pk: int) -> User:
    """A user profile: agents see everyone, other people only themselves (else 404)."""
    if not viewer.is_agent and viewer.pk != pk:
        raise Http404("user")
    user = User.objects.select_related("organisation").prefetch_related("support_groups").filter(pk=pk).first()
    if user is None:
        raise Http404("user")
    return user


def organisations_visible_to(viewer: User) -> QuerySet[Organisation]:
    if viewer.is_agent:
        return Organisation.objects.all()
    if viewer.organisation_id is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(pk=viewer.organisation_id)


def groups() -> QuerySet[SupportGroup]:
    return SupportGroup.objects.select_related("manager")


def group_for(pk: int) -> SupportGroup:
    group = SupportGroup.objects.filter(pk=pk).first()
    if group is None:
        raise Http404("group")
    return group


def tokens_of(user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_of(user: User, pk: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=pk).first()
    if token is None:
        raise Http404("token")
    return token


def categories() -> QuerySet[Category]:
    return Category.objects.order_by("position", "slug", "id")
