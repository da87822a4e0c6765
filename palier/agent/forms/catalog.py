"""Forms of the catalog administration: they live in the catalog app (``catalog/admin_forms.py``),
shared with the API."""

from __future__ import annotations

from palier.catalog.admin_forms import (
    CategoryForm,
    FieldForm,
    ItemForm,
    StageForm,
    TaskForm,
    choices_json,
    parse_choices,
)

__all__ = ["CategoryForm", "FieldForm", "ItemForm", "StageForm", "TaskForm", "choices_json", "parse_choices"]
