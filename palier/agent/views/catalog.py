"""Admin pages (admins only): catalog items and categories; on an item's page its fields,
approval stages and task templates, each added, edited, moved up or down and removed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.catalog import CategoryForm, FieldForm, ItemForm, StageForm, TaskForm
from palier.catalog import selectors, services
from palier.catalog.models import ApprovalStage, CatalogCategory, CatalogItem, ItemField, TaskTemplate
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, apply_errors
from palier.people.http import AuthedRequest

PER_PAGE = 50
PARTS: dict[str, tuple[type[Any], type[forms.ModelForm], Any]] = {  # type: ignore[type-arg]
    "field": (ItemField, FieldForm, services.save_field),
    "stage": (ApprovalStage, StageForm, services.save_stage),
    "task": (TaskTemplate, TaskForm, services.save_task),
}


def _save(form: forms.BaseForm, write: Any, **kwargs: Any) -> Any:
    if not form.is_valid():
        return None
    try:
        return write(form=form, **kwargs)
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)  # type: ignore[arg-type]  # works on any form
        return None


@admin_required
def items(request: AuthedRequest) -> HttpResponse:
    form = ItemForm(request.POST or None)
    if form.is_bound and (item := _save(form, services.save_item, by=request.user)):
        messages.success(request, _("Item “%(name)s” created: add its fields.") % {"name": item.name})
        return redirect("catalog:admin-item", item_id=item.pk)
    page = Paginator(selectors.admin_items(), PER_PAGE).get_page(request.GET.get("page"))
    status = 400 if form.is_bound else 200
    return render(request, "agent/catalog/items.html", {"page": page, "form": form}, status=status)


def _part_forms(item: CatalogItem, data: Any = None, which: str = "") -> dict[str, forms.BaseForm]:
    return {
        name: form_class(data if name == which else None, prefix=name)
        for name, (_model, form_class, _write) in PARTS.items()
    }


@admin_required
def item_edit(request: AuthedRequest, item_id: int) -> HttpResponse:
    item = selectors.admin_item(item_id)
    form = ItemForm(request.POST if request.POST.get("part") == "item" else None, instance=item, prefix="item")
    which = request.POST.get("part", "")
    part_forms = _part_forms(item, request.POST, which)
    if request.method == "POST":
        if which == "item" and _save(form, services.save_item, by=request.user):
            messages.success(request, _("Saved."))
            return redirect("catalog:admin-item", item_id=item.pk)
        if which in PARTS and _save(part_forms[which], PARTS[which][2], item=item, by=request.user):
            messages.success(request, _("Saved."))
            return redirect("catalog:admin-item", item_id=item.pk)
    context = {
        "item": item,
        "form": form,
        **{f"{name}_form": f for name, f in part_forms.items()},
        **_part_rows(item),
    }
    return render(request, "agent/catalog/item.html", context, status=400 if request.method == "POST" else 200)


def _part_rows(item: CatalogItem) -> dict[str, list[tuple[Any, str, str]]]:
    """(object, label, detail) rows of the item's fields, stages and tasks (prefetched)."""
    fields = [
        (f, f.label, f"{f.get_kind_display()}{' *' if f.required else ''}{_(' · conditional') if f.conditions else ''}")
        for f in item.fields.all()
    ]
    stages = []
    for stage in item.stages.all():
        if stage.kind == ApprovalStage.Kind.PEOPLE:
            who = ", ".join(p.display_name for p in stage.people.all())
        else:
            who = stage.group.name if stage.kind == ApprovalStage.Kind.GROUP and stage.group else ""
        rule = stage.get_rule_display() if stage.kind == ApprovalStage.Kind.GROUP else ""
        together = _("at the same time as the previous stage") if stage.with_previous else ""
        stages.append((stage, str(stage.get_kind_display()), " · ".join(x for x in (who, str(rule), together) if x)))
    tasks = [(t, t.subject, t.group.name if t.group else _("Triage group")) for t in item.task_templates.all()]
    return {"field_rows": fields, "stage_rows": stages, "task_rows": tasks}


def _get_part(kind: str, item_id: int, part_id: int) -> Any:
    if kind not in PARTS:
        raise Http404("part")
    return get_object_or_404(PARTS[kind][0], pk=part_id, item_id=item_id)


@admin_required
def part_edit(request: AuthedRequest, item_id: int, kind: str, part_id: int) -> HttpResponse:
    part = _get_part(kind, item_id, part_id)
    form_class, write = PARTS[kind][1], PARTS[kind][2]
    form = form_class(request.POST or None, instance=part)
    if form.is_bound and _save(form, write, item=part.item, by=request.user):
        messages.success(request, _("Saved."))
        return redirect("catalog:admin-item", item_id=item_id)
    status = 400 if form.is_bound else 200
    return render(request, "agent/catalog/part_edit.html", {"item": part.item, "form": form}, status=status)


@admin_required
@require_POST
def part_move(request: AuthedRequest, item_id: int, kind: str, part_id: int, direction: str) -> HttpResponse:
    part = _get_part(kind, item_id, part_id)
    try:
        services.move_part(part=part, up=direction == "up", by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("catalog:admin-item", item_id=item_id)


@admin_required
@require_POST
def part_remove(request: AuthedRequest, item_id: int, kind: str, part_id: int) -> HttpResponse:
    part = _get_part(kind, item_id, part_id)
    try:
        services.remove_part(part=part, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Removed."))
    return redirect("catalog:admin-item", item_id=item_id)


@admin_required
def categories(request: AuthedRequest, category_id: int | None = None) -> HttpResponse:
    instance = get_object_or_404(CatalogCategory, pk=category_id) if category_id else None
    form = CategoryForm(request.POST or None, instance=instance)
    if form.is_bound and _save(form, services.save_category, by=request.user):
        messages.success(request, _("Saved."))
        return redirect("catalog:admin-categories")
    context = {"categories": selectors.admin_categories(), "form": form, "editing": instance}
    return render(request, "agent/catalog/categories.html", context, status=400 if form.is_bound else 200)
