"""Test builders for the catalog (items are admin data; requests go through the services)."""

from __future__ import annotations

from typing import Any

from palier.catalog import services
from palier.catalog.forms import RequestForm
from palier.catalog.models import ApprovalStage, CatalogItem, ItemField, TaskTemplate
from palier.catalog.permissions import nameable_people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket

_count = 0


def make_item(
    *,
    name: str = "Laptop",
    fields: list[dict[str, Any]] | None = None,
    stages: list[dict[str, Any]] | None = None,
    tasks: list[tuple[str, SupportGroup | None]] | None = None,
    **extra: Any,
) -> CatalogItem:
    global _count
    _count += 1
    extra.setdefault("slug", f"test-item-{_count}")
    item = CatalogItem.objects.create(name_fr=f"{name} (fr)", name_en=name, **extra)
    specs = fields if fields is not None else [{"key": "what", "kind": "short_text", "required": True}]
    for n, spec in enumerate(specs, start=1):
        spec = dict(spec)
        spec.setdefault("label_fr", spec["key"].capitalize() + " (fr)")
        spec.setdefault("label_en", spec["key"].capitalize())
        ItemField.objects.create(item=item, order=n, **spec)
    for n, stage in enumerate(stages or [], start=1):
        stage = dict(stage)
        people = stage.pop("people", [])
        made = ApprovalStage.objects.create(item=item, order=n, **stage)
        made.people.set(people)
    for n, (subject, group) in enumerate(tasks or [], start=1):
        TaskTemplate.objects.create(item=item, order=n, subject_fr=f"{subject} (fr)", subject_en=subject, group=group)
    return item


def submit(item: CatalogItem, requester: User, data: dict[str, Any] | None = None, files: Any = None) -> Ticket:
    """Fill the item's form like the portal does and submit it (the form must be valid)."""
    specs = list(item.fields.order_by("order"))
    form = RequestForm(
        data if data is not None else {"f_what": "A new laptop"},
        files,
        specs=specs,
        people=nameable_people(requester),
    )
    assert form.is_valid(), form.errors
    return services.submit_request(item=item, requester=requester, answers=form.answers(), uploads=form.uploads)
