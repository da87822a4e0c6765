"""Reads for ticket categories, readable by everyone signed in. ``selectors`` re-exports them: the
interface packages ask ``tickets.selectors``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from palier.tickets.models import Category


def category_choices() -> list[tuple[int, str]]:
    """Active categories as (id, label) in tree order, children labelled "Parent › Child"."""
    rows = list(Category.objects.filter(is_active=True).order_by("position", "slug"))
    by_parent: dict[int | None, list[Category]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)
    out: list[tuple[int, str]] = []
    for root in by_parent.get(None, []):
        out.append((root.pk, root.name))
        out += [(child.pk, f"{root.name} › {child.name}") for child in by_parent.get(root.pk, [])]
    return out


def find_category(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    return Category.objects.filter(pk=category_id).first()


def active_categories() -> QuerySet[Category]:
    """Active categories in tree position order (the model's ordering)."""
    return Category.objects.filter(is_active=True)


def active_categories_by_slug() -> QuerySet[Category]:
    """Active categories by slug, which keeps each child next to its parent's other children
    (choice lists of the rule editors)."""
    return Category.objects.filter(is_active=True).order_by("slug")


def all_categories() -> QuerySet[Category]:
    """Every category, active or not, in tree position order (a flat list)."""
    return Category.objects.order_by("position", "slug", "id")


def categories_by_id() -> QuerySet[Category]:
    """Every category, active or not, oldest first."""
    return Category.objects.order_by("pk")


def top_level_categories() -> QuerySet[Category]:
    return Category.objects.filter(parent__isnull=True).order_by("position", "slug")


# --- administration pages -----------------------------------------------------------------------


@dataclass
class CategoryNode:
    category: Category
    children: list[Category]


def category_tree() -> list[CategoryNode]:
    """Every category, active or not, as top-level nodes with their children (one query)."""
    rows = list(Category.objects.select_related("parent").order_by("position", "slug"))
    children: dict[int, list[Category]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    return [CategoryNode(row, children.get(row.pk, [])) for row in rows if row.parent_id is None]


def get_category_for_admin(category_id: int) -> Category:
    category = Category.objects.select_related("parent").filter(pk=category_id).first()
    if category is None:
        raise Http404("category")
    return category
