"""Ids in a request body turned into objects through the owning apps' selectors: a missing id
answers 422 on its field. Nothing here reads the database itself, and nothing writes."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from palier.people import selectors as people_selectors
from palier.people.models import Department, Organisation, SupportGroup, User
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Category

T = TypeVar("T")


def required(found: T | None, field: str) -> T:
    """``found``, or a 422 on ``field`` when the id named nothing."""
    if found is None:
        raise ValidationError({field: _("No such item (id not found).")})
    return found


def user_by_id(pk: int, *, field: str = "user") -> User:
    return required(people_selectors.find_active_user(pk), field)


def group_by_id(pk: int, *, field: str = "group") -> SupportGroup:
    return required(people_selectors.find_group(pk), field)


def category_by_id(pk: int, *, field: str = "category") -> Category:
    return required(ticket_selectors.find_category(pk), field)


def organisation_by_id(pk: int, *, field: str = "organisation") -> Organisation:
    return required(people_selectors.find_organisation(pk), field)


def department_by_id(pk: int, *, field: str = "department") -> Department:
    return required(people_selectors.find_department(pk), field)
