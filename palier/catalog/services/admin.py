"""Admin writes: items, their fields, approval stages and task templates (admins only)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palier.audit import services as audit
from palier.catalog import conditions, permissions
from palier.catalog.models import ApprovalStage, CatalogCategory, CatalogItem, ItemField, TaskTemplate
from palier.lib.errors import Conflict
from palier.people.models import User

Ordered = TypeVar("Ordered", ItemField, ApprovalStage, TaskTemplate)


@transaction.atomic
def save_item(*, form: Any, by: User) -> CatalogItem:
    """Create or update an item from a valid ``ItemForm``."""
    permissions.require_manage(by)
    item: CatalogItem = form.save()
    return item


@transaction.atomic
def save_category(*, form: Any, by: User) -> CatalogCategory:
    permissions.require_manage(by)
    category: CatalogCategory = form.save()
    return category


@transaction.atomic
def delete_category(*, category: CatalogCategory, by: User) -> None:
    """Delete an empty category; one that still holds items is refused (move them first)."""
    permissions.require_manage(by)
    count = CatalogItem.objects.filter(category_id=category.pk).count()
    if count:
        raise Conflict(
            ngettext(
                "%(count)d item is in this category: move it to another category first.",
                "%(count)d items are in this category: move them to another category first.",
                count,
            )
            % {"count": count}
        )
    audit.record("deleted", actor=by, target=category)
    category.delete()


def _next_order(queryset: models.QuerySet[Any]) -> int:
    return int(queryset.aggregate(m=Max("order"))["m"] or 0) + 1


@transaction.atomic
def save_field(*, item: CatalogItem, form: Any, by: User) -> ItemField:
    """Create or update a field from a valid ``FieldForm`` (choices parsed by the form)."""
    permissions.require_manage(by)
    field: ItemField = form.save(commit=False)
    field.item = item
    field.choices = (
        form.cleaned_data["choices"] if field.kind in (ItemField.Kind.CHOICE, ItemField.Kind.MULTIPLE) else []
    )
    field.conditions = form.cleaned_data.get("conditions") or {}
    if field.pk is None:
        field.order = _next_order(item.fields.all())
    others = list(ItemField.objects.select_for_update().filter(item_id=item.pk).exclude(pk=field.pk))
    if any(other.key == field.key for other in others):
        raise ValidationError({"key": _("Another field of this item already has this key.")})
    _check_fields(sorted([*others, field], key=lambda f: (f.order, f.pk or 0)), changed=field.key)
    field.save()
    return field


def _check_fields(fields: list[ItemField], *, changed: str = "") -> None:
    """Refuse an item whose field conditions would not hold (``conditions.check_item``)."""
    errors = conditions.check_item(fields)
    if not errors:
        return
    messages = [
        message if key == changed else _("Field “%(key)s”: %(message)s") % {"key": key, "message": message}
        for key, found in errors.items()
        for message in found
    ]
    raise ValidationError(messages)


@transaction.atomic
def save_stage(*, item: CatalogItem, form: Any, by: User) -> ApprovalStage:
    permissions.require_manage(by)
    stage: ApprovalStage = form.save(commit=False)
    stage.item = item
    if stage.kind != ApprovalStage.Kind.GROUP:
        stage.group = None
    if stage.pk is None:
        stage.order = _next_order(item.stages.all())
    stage.save()
    stage.people.set(form.cleaned_data["people"] if stage.kind == ApprovalStage.Kind.PEOPLE else [])
    return stage


@transaction.atomic
def save_task(*, item: CatalogItem, form: Any, by: User) -> TaskTemplate:
    permissions.require_manage(by)
    task: TaskTemplate = form.save(commit=False)
    task.item = item
    if task.pk is None:
        task.order = _next_order(item.task_templates.all())
    task.save()
    return task


@transaction.atomic
def remove_part(*, part: ItemField | ApprovalStage | TaskTemplate, by: User) -> None:
    """Remove a field, a stage or a task template (requests already made keep their copy)."""
    permissions.require_manage(by)
    if isinstance(part, ItemField):
        dependents = conditions.depends_on(ItemField.objects.filter(item_id=part.item_id), part.key)
        if dependents:
            raise ValidationError(
                _("The conditions of %(keys)s depend on this field: change them first.")
                % {"keys": ", ".join(dependents)}
            )
    audit.record("deleted", actor=by, target=part)
    part.delete()


@transaction.atomic
def place_part(*, part: Ordered, position: int, by: User) -> None:
    """Put a field, stage or task template at ``position`` (1 = first; beyond the end = last),
    the others keeping their order, renumbered 1..n; fields' conditions are checked again."""
    permissions.require_manage(by)
    siblings = list(type(part).objects.select_for_update().filter(item_id=part.item_id).order_by("order", "id"))
    moved = next(s for s in siblings if s.pk == part.pk)
    siblings.remove(moved)
    siblings.insert(max(0, min(position - 1, len(siblings))), moved)
    if isinstance(part, ItemField):
        _check_fields(siblings)
    _renumber(siblings)
    part.order = moved.order


def _renumber(siblings: list[Any]) -> None:
    for position, sibling in enumerate(siblings, start=1):
        if sibling.order != position:
            sibling.order = position
            sibling.save(update_fields=["order"])


@transaction.atomic
def move_part(*, part: Ordered, up: bool, by: User) -> None:
    """Swap a field, stage or task template with its neighbour (renumbering 1..n first)."""
    permissions.require_manage(by)
    siblings = list(type(part).objects.select_for_update().filter(item_id=part.item_id).order_by("order", "id"))
    index = next(i for i, s in enumerate(siblings) if s.pk == part.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    if isinstance(part, ItemField):
        _check_fields(siblings)  # the fields in their new order
    _renumber(siblings)
