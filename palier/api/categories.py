"""Reference data: the category tree and the priority matrix."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.schemas.reference import CategoryCreate, CategoryOut, PriorityCell, PriorityMatrixIn
from palier.tickets import selectors, services

router = Router()


@router.get("/categories", response=list[CategoryOut])
def list_categories(request: HttpRequest) -> list[Any]:
    """The whole category tree as a flat list (``parent`` ids); ``name`` is in your language."""
    return list(selectors.all_categories())


@router.post("/categories", response={201: CategoryOut})
def create_category(request: HttpRequest, payload: CategoryCreate) -> Status[Any]:
    """Add a category (administrators)."""
    parent = None if payload.parent is None else lookups.category_by_id(payload.parent, field="parent")
    fields = payload.model_dump(exclude={"parent"})
    return Status(201, services.create_category(parent=parent, by=current_user(request), **fields))


@router.get("/priority-matrix", response=list[PriorityCell])
def get_priority_matrix(request: HttpRequest) -> list[dict[str, Any]]:
    """Priority (1 = most urgent) for each impact x urgency pair."""
    return selectors.priority_matrix()


@router.put("/priority-matrix", response=list[PriorityCell])
def set_priority_matrix(request: HttpRequest, payload: PriorityMatrixIn) -> list[dict[str, Any]]:
    """Change some cells of the matrix (administrators). Existing tickets keep their priority."""
    user = current_user(request)
    for cell in payload.cells:
        services.set_priority_cell(impact=cell.impact, urgency=cell.urgency, priority=cell.priority, by=user)
    return selectors.priority_matrix()
