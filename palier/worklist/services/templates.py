"""Task templates: a named list of tasks administrators keep, added to tickets by agents, macros
and automation rules (``services.tasks.add_template_tasks``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.people.models import SupportGroup, User
from palier.worklist import permissions
from palier.worklist.models import MAX_TITLE, TaskTemplate, TaskTemplateItem

MAX_ITEMS = 50
MAX_DAYS = 365


def _item(index: int, raw: Mapping[str, Any], groups: dict[int, SupportGroup]) -> TaskTemplateItem:
    def refuse(message: str) -> ValidationError:
        return ValidationError({"items": _("Task %(n)d: %(error)s") % {"n": index + 1, "error": message}})

    title = str(raw.get("title") or "").replace("\x00", "").strip()
    if not title or len(title) > MAX_TITLE:
        raise refuse(_("say what is to be done, in at most %(n)d characters.") % {"n": MAX_TITLE})
    group_id = raw.get("group")
    if group_id not in (None, "") and (not str(group_id).isdigit() or int(group_id) not in groups):
        raise refuse(_("choose a group from the list."))
    days = raw.get("due_in_days")
    if days in (None, ""):
        days = None
    elif isinstance(days, bool) or not str(days).isdigit() or int(days) > MAX_DAYS:
        raise refuse(_("the due date is 0 to %(n)d days after the task is added.") % {"n": MAX_DAYS})
    return TaskTemplateItem(
        position=index,
        title=title,
        group=groups[int(group_id)] if group_id not in (None, "") else None,
        mandatory=bool(raw.get("mandatory")),
        due_in_days=int(days) if days is not None else None,
    )


def _clean(name: str, description: str, items: Sequence[Mapping[str, Any]]) -> tuple[str, str, list[TaskTemplateItem]]:
    name = str(name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError({"name": _("Enter a name of at most 200 characters.")})
    description = str(description or "").strip()
    if len(description) > 500:
        raise ValidationError({"description": _("At most %(n)d characters.") % {"n": 500}})
    if not items:
        raise ValidationError({"items": _("Add at least one task.")})
    if len(items) > MAX_ITEMS:
        raise ValidationError({"items": _("A template has at most %(n)d tasks.") % {"n": MAX_ITEMS}})
    wanted = {int(i["group"]) for i in items if str(i.get("group") or "").isdigit()}
    groups = {g.pk: g for g in SupportGroup.objects.filter(pk__in=wanted)}
    return name, description, [_item(index, raw, groups) for index, raw in enumerate(items)]


@transaction.atomic
def save_template(
    *,
    by: User | None,
    name: str,
    items: Sequence[Mapping[str, Any]],
    description: str = "",
    is_active: bool = True,
    template: TaskTemplate | None = None,
) -> TaskTemplate:
    """Create a template (``template`` None) or replace one's name, description and tasks. Each
    item: ``title``, ``group`` (id or None), ``mandatory``, ``due_in_days`` (or None)."""
    permissions.require_manage_templates(by)
    name, description, rows = _clean(name, description, items)
    clash = TaskTemplate.objects.filter(name__iexact=name)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise ValidationError({"name": _("Another task template has this name.")})
    if template is None:
        template = TaskTemplate.objects.create(name=name, description=description, is_active=is_active)
        audit.record("created", actor=by, target=template, changes={"name": [None, name]})
    else:
        template = TaskTemplate.objects.select_for_update().get(pk=template.pk)
        audit.record("changed", actor=by, target=template, changes={"name": [template.name, name]})
        template.name, template.description, template.is_active = name, description, is_active
        template.updated_at = timezone.now()
        template.save()
        template.items.all().delete()
    for row in rows:
        row.template = template
    TaskTemplateItem.objects.bulk_create(rows)
    return template


@transaction.atomic
def delete_template(template: TaskTemplate, *, by: User | None) -> None:
    """Remove a template; the tasks it added stay on their tickets."""
    permissions.require_manage_templates(by)
    audit.record("deleted", actor=by, target=template, changes={"name": [template.name, None]})
    template.delete()
