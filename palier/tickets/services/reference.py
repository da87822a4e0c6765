"""Reference data admins edit: the priority matrix and the category tree."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.people.models import User
from palier.tickets import permissions
from palier.tickets.models import (
    Category,
    Level,
    PriorityRule,
)
from palier.tickets.services._common import (
    _check_choice,
    _clean_text,
)

# --- administration -----------------------------------------------------------------------------------


@transaction.atomic
def set_priority_cell(*, impact: str, urgency: str, priority: int, by: User | None) -> PriorityRule:
    permissions.require_admin_for(by, "priority_matrix")
    _check_choice(impact, Level.values, "impact")
    _check_choice(urgency, Level.values, "urgency")
    if priority not in (1, 2, 3, 4):
        raise ValidationError({"priority": _("The priority must be between 1 and 4.")})
    rule, _created = PriorityRule.objects.update_or_create(
        impact=impact, urgency=urgency, defaults={"priority": priority}
    )
    return rule


@transaction.atomic
def create_category(
    *, slug: str, name_en: str, name_fr: str, parent: Category | None = None, by: User | None
) -> Category:
    permissions.require_admin_for(by, "categories")
    name_en = _clean_text(name_en, field="name_en", maximum=120, required=True)
    name_fr = _clean_text(name_fr, field="name_fr", maximum=120, required=True)
    slug = _clean_text(slug, field="slug", maximum=80, required=True).lower()
    if Category.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("A category with this identifier already exists.")})
    return Category.objects.create(slug=slug, name_en=name_en, name_fr=name_fr, parent=parent)


# --- administration pages ------------------------------------------------------------------------


def _check_category_parent(category: Category | None, parent: Category | None) -> None:
    """The tree has two levels: a parent is a top-level category, and a parent cannot move under another."""
    if parent is None:
        return
    if parent.parent_id is not None:
        raise ValidationError({"parent": _("Choose a top-level category as the parent.")})
    if category is not None and (parent.pk == category.pk or category.children.exists()):
        raise ValidationError({"parent": _("A category with sub-categories stays at the top level.")})


@transaction.atomic
def update_category(
    category: Category, *, by: User | None, name_en: str, name_fr: str, parent: Category | None, position: int = 0
) -> Category:
    """Rename a category in both languages, move it, or change its place in the list."""
    permissions.require_admin_for(by, "categories")
    name_en = _clean_text(name_en, field="name_en", maximum=120, required=True)
    name_fr = _clean_text(name_fr, field="name_fr", maximum=120, required=True)
    _check_category_parent(category, parent)
    if not 0 <= position <= 32767:
        raise ValidationError({"position": _("The position must be between 0 and 32767.")})
    category.name_en, category.name_fr, category.parent, category.position = name_en, name_fr, parent, position
    category.save(update_fields=["name_en", "name_fr", "parent", "position"])
    return category


@transaction.atomic
def set_category_active(category: Category, *, active: bool, by: User | None) -> Category:
    """Deactivated categories are no longer offered; tickets keep theirs. Sub-categories follow."""
    permissions.require_admin_for(by, "categories")
    if active and category.parent is not None and not category.parent.is_active:
        raise ValidationError({"is_active": _("Activate the parent category first.")})
    Category.objects.filter(pk=category.pk).update(is_active=active)
    if not active:
        Category.objects.filter(parent=category).update(is_active=False)
    category.is_active = active
    return category


@transaction.atomic
def set_priority_matrix(*, cells: dict[tuple[str, str], int], by: User | None) -> None:
    """Save several cells of the impact x urgency matrix at once (all or nothing)."""
    for (impact, urgency), priority in cells.items():
        set_priority_cell(impact=impact, urgency=urgency, priority=priority, by=by)


CATEGORY_FIELDS = ("name_en", "name_fr", "parent", "position")


@transaction.atomic
def change_category(category: Category, *, by: User | None, is_active: bool | None = None, **fields: Any) -> Category:
    """Change only the fields given (the API's PATCH): names, parent (a move) and position through
    ``update_category``, offered or not through ``set_category_active`` (the page's rules)."""
    permissions.require_admin_for(by, "categories")
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    if fields:
        current = {name: getattr(category, name) for name in CATEGORY_FIELDS}
        update_category(category, by=by, **{**current, **fields})
    if is_active is not None and is_active != category.is_active:
        set_category_active(category, active=is_active, by=by)
    return category
