"""Catalog reads, always scoped by ``permissions``: what a person may request, a request's
answers, the approvals waiting for someone, and the admin lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, prefetch_related_objects
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from palier.catalog import permissions
from palier.catalog.models import (
    Approval,
    ApprovalDelegation,
    ApprovalStage,
    ApprovalStep,
    CatalogCategory,
    CatalogItem,
    FulfilmentTask,
    ItemField,
    Submission,
    TaskTemplate,
)
from palier.people.models import User
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Ticket

SUGGEST_LIMIT = 3
MIN_WORD = 4


def items_visible_to(user: User) -> QuerySet[CatalogItem]:
    return CatalogItem.objects.filter(permissions.visible_items(user))


def catalog_page(user: User, *, q: str = "", category_id: int | None = None) -> QuerySet[CatalogItem]:
    """The items ``user`` may request, searched by name and description, in catalog order."""
    return _filtered(items_visible_to(user).select_related("category"), q=q, category_id=category_id)


def _filtered(items: QuerySet[CatalogItem], *, q: str, category_id: int | None) -> QuerySet[CatalogItem]:
    if category_id:
        items = items.filter(category_id=category_id)
    for word in q.split()[:8]:
        items = items.filter(
            Q(name_fr__icontains=word)
            | Q(name_en__icontains=word)
            | Q(description_fr__icontains=word)
            | Q(description_en__icontains=word)
        )
    return items.order_by("category__order", "category_id", "order", "id")


def categories_for(user: User) -> list[CatalogCategory]:
    """Categories holding at least one item ``user`` may request."""
    visible = items_visible_to(user).values("category_id")
    return list(CatalogCategory.objects.filter(pk__in=visible).order_by("order", "id"))


def get_item_for(user: User, item_id: int) -> CatalogItem:
    item = items_visible_to(user).filter(pk=item_id).first()
    if item is None:
        raise Http404("catalog item")
    return item


def item_fields(item: CatalogItem) -> list[ItemField]:
    return list(item.fields.order_by("order", "id"))


@dataclass(frozen=True)
class Suggestion:
    url: str
    name: str


def suggest_items(user: User, text: str, *, limit: int = SUGGEST_LIMIT) -> list[Suggestion]:
    """Items whose name shares a word with what the requester types (the deflection panel)."""
    words = [w for w in re.findall(r"\w+", text.lower()) if len(w) >= MIN_WORD][:10]
    if not words:
        return []
    match = Q()
    for word in words:
        match |= Q(name_fr__icontains=word) | Q(name_en__icontains=word)
    items = items_visible_to(user).filter(match).order_by("order", "id")[:limit]
    return [Suggestion(url=reverse("catalog:item", args=[i.pk]), name=i.name) for i in items]


def submission_for(user: User, ticket: Ticket) -> Submission | None:
    """The catalog answers of ``ticket``, when it is a catalog request ``user`` may read."""
    submission = Submission.objects.select_related("item").filter(ticket_id=ticket.pk).first()
    if submission is None or not permissions.can_read_submission(user, ticket):
        return None
    return submission


def request_for_ticket(user: User, ticket: Ticket) -> Submission | None:
    """``submission_for`` with its approval steps (their approvals and approvers) and fulfilment
    tasks prefetched, for the ticket pages: one query for other tickets, up to five for a catalog
    request."""
    submission = submission_for(user, ticket)
    return _with_workflow(submission) if submission is not None else None


def approvals_waiting_for(user: User, *, catalog_only: bool = False) -> QuerySet[Approval]:
    """What waits for ``user``'s decision: catalog requests and, unless ``catalog_only``, the
    other subjects (changes; give them their ``subject_view`` with ``with_subjects``)."""
    rows = Approval.objects.filter(approver_id=user.pk, decision=Approval.Decision.PENDING)
    if catalog_only:
        rows = rows.filter(step__submission__isnull=False)
    return rows.select_related(
        "step__submission__ticket__requester", "step__submission__item", "on_behalf_of"
    ).order_by("asked_at", "id")


def with_subjects(approvals: Iterable[Approval]) -> list[Approval]:
    """The approvals, those of another subject than a catalog request with their ``subject_view``
    (reference, title, link, rows): one query per subject kind."""
    from palier.catalog.services.approvals import describe_subjects

    rows = list(approvals)
    describe_subjects(rows)
    return rows


def approvals_decided_by(user: User, *, limit: int = 20) -> list[Approval]:
    return list(
        Approval.objects.filter(approver_id=user.pk)
        .exclude(decision__in=[Approval.Decision.PENDING, Approval.Decision.NOT_NEEDED])
        .select_related("step__submission__ticket", "step__submission__item")
        .order_by("-decided_at", "-id")[:limit]
    )


def get_approval_for(user: User, approval_id: int, *, catalog_only: bool = False) -> Approval:
    """An approval asked of ``user`` (any other answers 404)."""
    rows = Approval.objects.filter(pk=approval_id, approver_id=user.pk)
    if catalog_only:
        rows = rows.filter(step__submission__isnull=False)
    approval = rows.select_related("step__submission__ticket__requester", "step__submission__item", "approver").first()
    if approval is None:
        raise Http404("approval")
    return approval


def approval_for_link(approval_id: int) -> Approval | None:
    """The approval a signed link points at (the signature was checked by the caller)."""
    return (
        Approval.objects.filter(pk=approval_id)
        .select_related("step__submission__ticket__requester", "step__submission__item", "approver")
        .first()
    )


# --- admin -------------------------------------------------------------------------------------------


def admin_catalog_page(*, q: str = "", category_id: int | None = None) -> QuerySet[CatalogItem]:
    """Every item, inactive ones included, for the administrators' API list (``catalog_page``'s
    filters, no visibility rule)."""
    return _filtered(CatalogItem.objects.select_related("category"), q=q, category_id=category_id)


def admin_items() -> QuerySet[CatalogItem]:
    return (
        CatalogItem.objects.select_related("category", "target_group")
        .annotate(field_count=Count("fields", distinct=True), stage_count=Count("stages", distinct=True))
        .order_by("category__order", "category_id", "order", "id")
    )


def admin_item(item_id: int) -> CatalogItem:
    item = (
        CatalogItem.objects.prefetch_related(
            Prefetch("fields", queryset=ItemField.objects.order_by("order", "id")),
            Prefetch(
                "stages",
                queryset=ApprovalStage.objects.select_related("group").prefetch_related("people").order_by("order"),
            ),
            "task_templates__group",
            "organisations",
            "groups",
        )
        .select_related("category")
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404("catalog item")
    return item


def admin_category(category_id: int) -> CatalogCategory:
    category = CatalogCategory.objects.filter(pk=category_id).first()
    if category is None:
        raise Http404("catalog category")
    return category


PARTS: dict[str, Any] = {"fields": ItemField, "stages": ApprovalStage, "tasks": TaskTemplate}


def admin_parts(kind: str) -> QuerySet[Any]:
    """Every item's fields, approval stages or task templates (``kind``: fields, stages, tasks)."""
    queryset: QuerySet[Any] = PARTS[kind].objects.select_related("item")
    if kind == "stages":
        queryset = queryset.prefetch_related("people")
    return queryset.order_by("item_id", "order", "id")


def admin_part(kind: str, part_id: int) -> Any:
    """One field, approval stage or task template, with its item (404 when there is none)."""
    part = admin_parts(kind).filter(pk=part_id).first()
    if part is None:
        raise Http404(f"catalog {kind}")
    return part


def admin_categories() -> list[CatalogCategory]:
    return list(all_categories())


def all_categories() -> QuerySet[CatalogCategory]:
    """Every catalog category, in the catalog's order."""
    return CatalogCategory.objects.order_by("order", "id")


# --- REST API reads ---------------------------------------------------------------------------------


def item_detail_for(user: User, item_id: int) -> CatalogItem:
    """An item ``user`` may request, with its fields in order and its number of approval stages
    (404 when invisible or inactive)."""
    item = (
        items_visible_to(user)
        .select_related("category")
        .annotate(stage_count=Count("stages", distinct=True))
        .prefetch_related(Prefetch("fields", queryset=ItemField.objects.order_by("order", "id")))
        .filter(pk=item_id)
        .first()
    )
    if item is None:
        raise Http404("catalog item")
    return item


def submissions_visible_to(
    user: User, *, state: str | None = None, item_id: int | None = None, mine: bool = False
) -> QuerySet[Submission]:
    """Catalog requests whose ticket ``user`` may see (what approvers are asked is
    ``approvals_waiting_for``), in ``state`` and of item ``item_id`` when given, and only those
    ``user`` asked for with ``mine``."""
    tickets = Ticket.objects.filter(ticket_permissions.visible(user)).values("pk")
    submissions = Submission.objects.filter(ticket_id__in=tickets).select_related("ticket__requester", "item")
    if state is not None:
        submissions = submissions.filter(state=state)
    if item_id is not None:
        submissions = submissions.filter(item_id=item_id)
    if mine:
        submissions = submissions.filter(ticket__requester_id=user.pk)
    return submissions


def _with_workflow(submission: Submission) -> Submission:
    prefetch_related_objects(
        [submission],
        Prefetch(
            "steps",
            queryset=ApprovalStep.objects.select_related("group")
            .prefetch_related(
                Prefetch(
                    "approvals", queryset=Approval.objects.select_related("approver", "on_behalf_of").order_by("id")
                )
            )
            .order_by("order", "id"),
        ),
        Prefetch("tasks", queryset=FulfilmentTask.objects.select_related("ticket", "group").order_by("order", "id")),
    )
    return submission


def get_submission_for(user: User, ticket_id: int) -> Submission:
    """The catalog request of ticket ``ticket_id`` with its approval steps (and approvals) and
    tasks, for someone who may read it (``permissions.can_read_submission``); otherwise 404."""
    submission = Submission.objects.select_related("ticket__requester", "item").filter(ticket_id=ticket_id).first()
    if submission is None or not permissions.can_read_submission(user, submission.ticket):
        raise Http404("catalog request")
    return _with_workflow(submission)


def submission_detail(ticket_id: int) -> Submission:
    """A request just submitted, for its submitter's answer (the caller checked who asks)."""
    return _with_workflow(Submission.objects.select_related("ticket__requester", "item").get(ticket_id=ticket_id))


def delegations_of(user: User, *, limit: int = 20) -> list[ApprovalDelegation]:
    """``user``'s delegations not yet over, soonest first."""
    return list(
        ApprovalDelegation.objects.filter(user_id=user.pk, ends_on__gte=timezone.localdate())
        .select_related("deputy")
        .order_by("starts_on", "id")[:limit]
    )
