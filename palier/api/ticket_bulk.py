"""Bulk ticket endpoints: create up to 1,000 tickets in one request, change many by query.

``POST /tickets/bulk`` checks every item first, then writes the good ones together
(``tickets.services.bulk_intake``); ``POST /tickets/bulk-update`` applies one patch to the
tickets a query matches, each through the ticket services (``tickets.bulk``). See docs/api.md,
"Bulk".
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel, SkipValidation, field_validator
from pydantic import ValidationError as PydanticValidationError

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem, problem, pydantic_errors
from palier.api.schemas.common import Input
from palier.api.schemas.tickets import StatusName, TicketCreate
from palier.api.tickets import TicketFilterQuery
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.tickets import bulk, selectors
from palier.tickets.services import bulk_intake

router = Router()

MAX_ITEMS = bulk_intake.MAX_ITEMS
MAX_UPDATE = selectors.MAX_BULK_QUERY


# --- creation -------------------------------------------------------------------------------------


class BulkTicketItem(TicketCreate):
    idempotency_key: str | None = Field(
        None,
        max_length=200,
        description="Retrying with the same key returns the ticket created the first time (status "
        "“existing”); the keys are those of the Idempotency-Key header of POST /tickets.",
    )


class BulkCreateIn(Input):
    items: list[SkipValidation[BulkTicketItem]] = Field(
        description="The tickets, 1 to 1,000; each is checked on its own.",
        json_schema_extra={"minItems": 1, "maxItems": MAX_ITEMS},
    )
    atomic: bool = Field(
        True,
        description="true: one bad item refuses the request (422) and nothing is created; "
        "false: the good items are created and the bad ones reported.",
    )

    @field_validator("items", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_ITEMS:
            raise ValueError(
                _("At most %(max)d tickets in one request; send the rest in another.") % {"max": MAX_ITEMS}
            )
        if isinstance(value, list) and not value:
            raise ValueError(_("Send at least one ticket."))
        return value


# plain pydantic models: ninja's ``Schema`` reads attributes through a wrapper on every
# construction, a tenth of the answer's cost for 1,000 items
class BulkItemOut(BaseModel):
    index: int
    status: Literal["created", "existing", "error"]
    id: int | None = None
    reference: str | None = None
    errors: dict[str, list[str]] = Field(default_factory=dict)


class BulkCreateOut(BaseModel):
    created: int
    existing: int
    failed: int
    items: list[BulkItemOut]


@functools.cache
def _defaults() -> dict[str, Any]:
    """Each item field's default, worked out once (pydantic inspects a default factory's
    signature on every call: a fifth of a 1,000-item request's time)."""
    return {name: f.get_default(call_default_factory=True) for name, f in BulkTicketItem.model_fields.items()}


def _sent_fields(user: User, item: BulkTicketItem) -> frozenset[str]:
    """The fields the caller chose: sent with a value other than the one the API would use."""
    sent = set()
    defaults = _defaults()
    for name in item.model_fields_set - {"idempotency_key"}:
        default = defaults[name]
        value = getattr(item, name)
        if value != default and not (name == "requester" and value == user.pk):
            sent.add(name)
    return frozenset(sent)


def _parse(user: User, raw: list[Any]) -> tuple[list[bulk_intake.BulkItem], dict[int, dict[str, list[str]]]]:
    """Each item validated on its own: the good ones as service items, the errors by index."""
    items: list[bulk_intake.BulkItem] = []
    invalid: dict[int, dict[str, list[str]]] = {}
    for index, value in enumerate(raw):
        try:
            item = BulkTicketItem.model_validate(value)
        except PydanticValidationError as exc:
            located = [{**e, "loc": ("body", "item", *e["loc"])} for e in exc.errors()]
            invalid[index] = pydantic_errors(located)
            continue
        content = item.model_dump(exclude={"idempotency_key"})
        items.append(
            bulk_intake.BulkItem(
                index=index,
                fields={name: value for name, value in content.items()},
                sent=_sent_fields(user, item),
                key=item.idempotency_key or None,
                # the same fingerprint as POST /tickets gives the same content under the same key
                fingerprint=hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
            )
        )
    return items, invalid


def _refused(exc: bulk_intake.BulkRefused) -> HttpResponse:
    errors = {
        f"items.{index}.{name}": messages
        for index, fields in exc.item_errors.items()
        for name, messages in fields.items()
    }
    return problem(422, exc.message, errors)


@router.post("/bulk", response={200: BulkCreateOut, 201: BulkCreateOut}, url_name="ticket_bulk")
def create_tickets(request: HttpRequest, payload: BulkCreateIn) -> Any:
    """Open up to 1,000 tickets in one request, each with its own result (index, status
    ``created``, ``existing`` or ``error``, id, reference, errors). By default a bad item refuses the
    whole request (422, errors named ``items.<index>.<field>``); with ``"atomic": false`` the good
    items are created. 201 when something was created, 200 otherwise."""
    user = current_user(request)
    items, invalid = _parse(user, list(payload.items))
    try:
        results = bulk_intake.open_tickets_in_bulk(by=user, items=items, invalid=invalid, atomic=payload.atomic)
    except bulk_intake.BulkRefused as exc:
        return _refused(exc)
    out = [
        BulkItemOut(
            index=r.index,
            status=r.status,
            id=r.ticket.pk if r.ticket else None,
            reference=r.ticket.reference if r.ticket else None,
            errors=r.errors,
        )
        for r in results
    ]
    counts = {s: sum(1 for r in results if r.status == s) for s in ("created", "existing", "error")}
    body = BulkCreateOut(created=counts["created"], existing=counts["existing"], failed=counts["error"], items=out)
    return Status(201 if counts["created"] else 200, body)


# --- update by query ------------------------------------------------------------------------------


class BulkFilter(TicketFilterQuery):
    """The filters of ``GET /tickets``."""

    model_config = {"extra": "forbid"}


class BulkPatch(Input):
    status: StatusName | None = None
    group: int | None = None
    assignee: int | None = None
    unassign: bool = Field(False, description="Clear the assignee.")
    priority: int | None = Field(None, ge=1, le=4, description="An override, whatever impact and urgency say.")
    tags: list[str] | None = Field(None, max_length=20, description="Replace each ticket's tags.")
    add_tags: list[str] | None = Field(None, max_length=20, description="Add to each ticket's tags.")
    note: str = Field(
        "", max_length=100_000, description="An internal note on each ticket (and the override's reason)."
    )


class BulkUpdateIn(Input):
    filter: BulkFilter = Field(default_factory=BulkFilter)  # type: ignore[arg-type]
    patch: BulkPatch
    max: int = Field(
        ge=1,
        le=MAX_UPDATE,
        description="The most tickets you expect the query to match; more refuses the request (409).",
    )
    dry_run: bool = Field(False, description="Only count and list the matching tickets; change nothing.")


class BulkUpdateItemOut(Schema):
    id: int
    reference: str
    status: Literal["updated", "unchanged", "error", "matched"]
    version: int
    error: str = ""


class BulkUpdateOut(Schema):
    matched: int
    dry_run: bool
    updated: int
    unchanged: int
    failed: int
    items: list[BulkUpdateItemOut]


def _change(patch: BulkPatch) -> bulk.BulkChange:
    return bulk.BulkChange(
        group=None if patch.group is None else lookups.group_by_id(patch.group),
        assignee=None if patch.assignee is None else lookups.user_by_id(patch.assignee, field="assignee"),
        unassign=patch.unassign,
        status=patch.status,
        note=patch.note,
        priority=patch.priority,
        tags=patch.tags,
        add_tags=patch.add_tags,
    )


@router.post("/bulk-update", response=BulkUpdateOut)
def update_tickets(request: HttpRequest, payload: BulkUpdateIn) -> BulkUpdateOut:
    """Apply one patch to every ticket the filter matches among those you may see (desk staff),
    each through the ticket services (rules, history, SLA) in a savepoint of its own. Send ``max``,
    the most tickets you expect (at most 1,000): a query matching more is refused (409) and
    nothing changes. ``dry_run`` only lists the tickets."""
    user = current_user(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only the service desk can change tickets in bulk."))
    change = _change(payload.patch)
    if change.is_empty:
        raise ValidationError({"patch": _("Choose at least one change to apply.")})
    tickets = selectors.tickets_for_bulk_query(user, filters=payload.filter.to_filters(), limit=payload.max)
    if len(tickets) > payload.max:
        raise Problem(
            409,
            _("The filter matches more than %(max)d tickets; narrow it or raise “max”. Nothing was changed.")
            % {"max": payload.max},
            errors={"max": [_("More tickets match than this.")]},
        )
    if payload.dry_run:
        items = [
            BulkUpdateItemOut(id=t.pk, reference=t.reference, status="matched", version=t.version) for t in tickets
        ]
        return BulkUpdateOut(matched=len(items), dry_run=True, updated=0, unchanged=0, failed=0, items=items)
    outcomes = bulk.bulk_update_tickets(tickets, change=change, by=user)
    items = [
        BulkUpdateItemOut(
            id=o.ticket.pk,
            reference=o.ticket.reference,
            status="error" if not o.ok else "updated" if o.changed else "unchanged",
            version=o.ticket.version,
            error="" if o.ok else o.message,
        )
        for o in outcomes
    ]
    return BulkUpdateOut(
        matched=len(items),
        dry_run=False,
        updated=sum(1 for i in items if i.status == "updated"),
        unchanged=sum(1 for i in items if i.status == "unchanged"),
        failed=sum(1 for i in items if i.status == "error"),
        items=items,
    )
