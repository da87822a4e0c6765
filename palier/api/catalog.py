"""Service catalog: browse the items you may request, read an item's form, submit a request with
its answers, follow your requests, and decide the approvals asked of you.

Reads go through ``palier.catalog.selectors`` (an item or request you may not see answers 404);
a request is submitted through ``catalog.services.submit_request`` with the answers validated by
the portal's ``RequestForm``, and approvals are decided through ``catalog.services.decide``.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.pagination import keyset_page
from palier.api.resources import etag_of
from palier.api.schemas.catalog import (
    ApprovalOut,
    ApprovalPage,
    CatalogCategoryOut,
    DecisionIn,
    ItemAdminOut,
    ItemDetail,
    ItemPage,
    RequestCreate,
    RequestDetail,
    RequestPage,
    RequestState,
)
from palier.assets import selectors as asset_selectors
from palier.catalog import selectors, services
from palier.catalog.forms import MAX_LONG, MAX_SHORT, RequestForm, wants_devices
from palier.catalog.models import Approval, CatalogItem, ItemField, Submission, pick
from palier.catalog.permissions import can_manage, nameable_people
from palier.lib.errors import NotFound, PermissionDenied
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

router = Router()

K = ItemField.Kind
DECISIONS = {"approve": Approval.Decision.APPROVED, "reject": Approval.Decision.REJECTED}
MAX_LENGTHS: dict[str, int] = {K.SHORT_TEXT: MAX_SHORT, K.LONG_TEXT: MAX_LONG}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
API_INPUT: dict[str, str] = {
    K.SHORT_TEXT: "string",
    K.LONG_TEXT: "string",
    K.NUMBER: "number",
    K.DATE: "date",
    K.CHOICE: "choice value",
    K.MULTIPLE: "list of choice values",
    K.PERSON: "email",
    K.ATTACHMENT: "unsupported",
    K.CHECKBOX: "boolean",
    K.ASSET: "asset id (one of the requester's own devices)",
}


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


class ItemListQuery(PageQuery):
    q: str = Field("", max_length=100, description="Words of the name or description (all must match).")
    category: int | None = None
    include_inactive: bool = Field(
        False, description="Administrators: every item, inactive and restricted ones included."
    )


class RequestListQuery(PageQuery):
    state: RequestState | None = None
    item: int | None = None
    mine: bool = Field(False, description="Only the requests you asked for yourself.")


# --- rendering --------------------------------------------------------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _category_ref(item: CatalogItem) -> dict[str, Any] | None:
    category = item.category
    return None if category is None else {"id": category.pk, "name": category.name}


def _item_summary(item: CatalogItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "slug": item.slug,
        "name": item.name,
        "description": item.description,
        "icon": item.icon,
        "category": _category_ref(item),
    }


def _field(spec: ItemField) -> dict[str, Any]:
    numeric = spec.kind == K.NUMBER
    return {
        "key": spec.key,
        "kind": spec.kind,
        "required": spec.required,
        "label": spec.label,
        "label_fr": spec.label_fr,
        "label_en": spec.label_en,
        "help": spec.help,
        "help_fr": spec.help_fr,
        "help_en": spec.help_en,
        "choices": [
            {
                "value": str(c.get("value", "")),
                "label": pick(str(c.get("fr", "")), str(c.get("en", ""))),
                "label_fr": str(c.get("fr", "")),
                "label_en": str(c.get("en", "")),
            }
            for c in spec.choices
        ]
        if spec.kind in (K.CHOICE, K.MULTIPLE)
        else [],
        "min_value": _number(spec.min_value) if numeric else None,
        "max_value": _number(spec.max_value) if numeric else None,
        "max_length": MAX_LENGTHS.get(spec.kind),
        "api_input": API_INPUT.get(spec.kind, "string"),
        "conditions": spec.conditions or {},
    }


item_field = _field  # the requesters' form field, which the administrators' view extends


def _item_detail(item: CatalogItem) -> dict[str, Any]:
    return {
        **_item_summary(item),
        "name_fr": item.name_fr,
        "name_en": item.name_en,
        "description_fr": item.description_fr,
        "description_en": item.description_en,
        "visibility": item.visibility,
        "fulfilment": item.fulfilment,
        "needs_approval": bool(getattr(item, "stage_count", 0)),
        "fields": [_field(spec) for spec in item.fields.all()],
    }


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "name": user.display_name}


def _ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "requester": _person(ticket.requester),
        "created_at": ticket.created_at,
    }


def _answers(submission: Submission) -> list[dict[str, Any]]:
    return [
        {
            "key": a.get("key", ""),
            "kind": a.get("kind", K.SHORT_TEXT),
            "label": pick(a.get("label_fr", ""), a.get("label_en", "")),
            "value": a.get("value"),
            "text": str(a.get("text", "")),
        }
        for a in submission.answers
    ]


def _summary(submission: Submission) -> dict[str, Any]:
    item = submission.item
    return {
        "ticket": _ticket_ref(submission.ticket),
        "item": {"id": item.pk, "slug": item.slug, "name": item.name},
        "state": submission.state,
        "created_at": submission.created_at,
    }


def _detail(submission: Submission) -> dict[str, Any]:
    """The body of a request read with ``get_submission_for`` / ``submission_detail`` (prefetched)."""
    steps = [
        {
            "order": step.order,
            "kind": step.kind,
            "rule": step.rule,
            "state": step.state,
            "with_previous": step.with_previous,
            "group": None if step.group is None else {"id": step.group.pk, "name": step.group.name},
            "approvals": [
                {
                    "approver": _person(a.approver),
                    "decision": a.decision,
                    "comment": a.comment,
                    "decided_at": a.decided_at,
                }
                for a in step.approvals.all()
            ],
        }
        for step in submission.steps.all()
    ]
    tasks = [
        {
            "order": task.order,
            "subject": task.subject,
            "group": None if task.group is None else {"id": task.group.pk, "name": task.group.name},
            "ticket": None
            if task.ticket is None
            else {"id": task.ticket.pk, "reference": task.ticket.reference, "status": task.ticket.status},
        }
        for task in submission.tasks.all()
    ]
    return {
        **_summary(submission),
        "fulfilment": submission.fulfilment,
        "answers": _answers(submission),
        "approval_steps": steps,
        "tasks": tasks,
    }


def _approval(approval: Approval) -> dict[str, Any]:
    """An approval read with ``approvals_waiting_for`` / ``get_approval_for`` (joined)."""
    submission = approval.step.submission
    assert submission is not None  # the catalog's lists and reads are ``catalog_only``
    return {
        "id": approval.pk,
        "decision": approval.decision,
        "comment": approval.comment,
        "stage": approval.step.order,
        "asked_at": approval.asked_at,
        "decided_at": approval.decided_at,
        "request": {**_summary(submission), "answers": _answers(submission)},
    }


# --- answers ----------------------------------------------------------------------------------------


def _type_error(spec: ItemField, value: Any) -> str | None:
    """The message for a JSON value of the wrong type for ``spec`` (None: the type fits)."""
    if spec.kind in (K.SHORT_TEXT, K.LONG_TEXT, K.CHOICE):
        return None if isinstance(value, str) else _("Enter a text.")
    if spec.kind == K.NUMBER:
        ok = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        return None if ok else _("Enter a number.")
    if spec.kind == K.DATE:
        return None if isinstance(value, str) and _ISO_DATE.match(value) else _("Enter a date as YYYY-MM-DD.")
    if spec.kind == K.MULTIPLE:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else _("Enter a list.")
    if spec.kind == K.PERSON:
        return None if isinstance(value, str) else _("Enter a valid email address.")
    if spec.kind == K.CHECKBOX:
        return None if isinstance(value, bool) else _("Enter true or false.")
    if spec.kind == K.ASSET:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else _("Give the id of one of your devices.")
    return None


def _form_value(spec: ItemField, value: Any) -> Any:
    if spec.kind in (K.NUMBER, K.ASSET):
        return str(value)
    return value


def clean_answers(
    user: User, item: CatalogItem, sent: dict[str, Any], *, requester: User | None = None
) -> list[dict[str, Any]]:
    """The answers of the portal's form (``RequestForm.answers()``) from a JSON object, or a
    ``ValidationError`` naming every wrong answer as ``answers.<key>``. A "which device?" field
    takes the id of one of the requester's own assets."""
    specs = selectors.item_fields(item)
    devices = asset_selectors.own_assets_choices(requester or user) if wants_devices(specs) else []
    known = {spec.key for spec in specs}
    errors: dict[str, list[str]] = {f"answers.{key}": [_("Unknown field.")] for key in sent if key not in known}
    data: dict[str, Any] = {}
    for spec in specs:
        value = sent.get(spec.key)
        if spec.kind == K.ATTACHMENT:
            if value is not None or spec.required:
                errors[f"answers.{spec.key}"] = [
                    _("Files cannot be sent through the API; request this item on the portal.")
                ]
            continue
        if value is None:
            continue
        message = _type_error(spec, value)
        if message is not None:
            errors[f"answers.{spec.key}"] = [message]
        else:
            data[f"f_{spec.key}"] = _form_value(spec, value)
    form = RequestForm(data, {}, specs=specs, people=nameable_people(user), devices=devices)
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(f"answers.{name.removeprefix('f_')}", [str(m) for m in messages])
    if errors:
        raise ValidationError(errors)
    return form.answers()


# --- catalog ----------------------------------------------------------------------------------------


@router.get("/categories", response=list[CatalogCategoryOut])
def list_categories(request: HttpRequest) -> list[Any]:
    """The catalog categories holding at least one item you may request, in catalog order
    (administrators: every category)."""
    user = current_user(request)
    if can_manage(user):  # administrators manage them all, empty ones included
        return selectors.admin_categories()
    return selectors.categories_for(user)


@router.get("/items", response=ItemPage)
def list_items(request: HttpRequest, query: Query[ItemListQuery]) -> dict[str, Any]:
    """Active items you may request (visibility per organisation and group, as on the portal),
    filtered by ``category`` and searched with ``q``, in the admins' order. Pass
    ``next_cursor`` back as ``cursor`` for the next page."""
    user = current_user(request)
    if query.include_inactive:
        if not can_manage(user):
            raise PermissionDenied(_("Only administrators may list inactive items."), field="include_inactive")
        items = selectors.admin_catalog_page(q=query.q, category_id=query.category)
    else:
        items = selectors.catalog_page(user, q=query.q, category_id=query.category)
    rows, cursor = keyset_page(items, order=("order", "id"), cursor=query.cursor, limit=query.limit)
    return {"items": [_item_summary(item) for item in rows], "next_cursor": cursor}


@router.get("/items/{int:item_id}", response=ItemAdminOut | ItemDetail, url_name="catalog_item_detail")
def get_item(request: HttpRequest, item_id: int, response: HttpResponse) -> Any:
    """One item and its form: each field's key, type, whether it is required, labels and help
    (French, English and yours), choices, bounds and maximum length. 404 when you may not
    request it or it is inactive. Administrators read every item with its settings, approval
    stages and fulfilment tasks, and its ``ETag`` for ``PATCH`` (``If-None-Match``: 304)."""
    user = current_user(request)
    if not can_manage(user):
        return _item_detail(selectors.item_detail_for(user, item_id))
    from palier.api.admin import catalog as admin_catalog  # the administration resource, mounted here

    item = selectors.admin_item(item_id)
    etag = etag_of(admin_catalog.ITEM, item)
    if request.headers.get("If-None-Match") == etag:
        return HttpResponse(status=304, headers={"ETag": etag})
    body = ItemAdminOut.from_orm(item).model_dump(mode="json")  # as is: not narrowed to the requesters' view
    return HttpResponse(json.dumps(body), content_type="application/json", headers={"ETag": etag})


def _fingerprint(item_id: int, payload: RequestCreate) -> str:
    sent = {"catalog_item": item_id, **payload.model_dump()}
    return hashlib.sha256(json.dumps(sent, sort_keys=True, default=str).encode()).hexdigest()


def _requester(user: User, payload: RequestCreate) -> User:
    if payload.requester is None or payload.requester == user.pk:
        return user
    if not user.is_agent:  # the ticket services' rule: requesters open tickets for themselves only
        raise PermissionDenied(_("You can only open tickets for yourself."), field="requester")
    return lookups.user_by_id(payload.requester, field="requester")


@router.post("/items/{int:item_id}/requests", response={200: RequestDetail, 201: RequestDetail})
def submit_request(
    request: HttpRequest,
    item_id: int,
    payload: RequestCreate,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Request an item: ``answers`` maps each field's key to its value, checked like the portal's
    form (every wrong answer is named in ``errors`` as ``answers.<key>`` and nothing is created).
    The request then waits for its approvals, or its fulfilment starts at once. Agents may ask
    for someone else with ``requester``. Retrying with the same ``Idempotency-Key`` returns the
    request created the first time (200) instead of a second one. Attachment fields cannot be
    sent through the API."""
    user = current_user(request)
    item = selectors.get_item_for(user, item_id)
    requester = _requester(user, payload)
    fingerprint = _fingerprint(item.pk, payload) if idempotency_key else ""
    previous = ticket_services.replay(user, idempotency_key, fingerprint) if idempotency_key else None
    if previous is None:
        answers = clean_answers(user, item, payload.answers, requester=requester)
        ticket, created = _submit_once(user, item, requester, answers, key=idempotency_key, fingerprint=fingerprint)
    else:
        ticket, created = previous, False
    response["Location"] = reverse("api:catalog_request_detail", args=[ticket.pk])
    if created:  # the caller just made it: rendered whether or not they may see the ticket
        return Status(201, _detail(selectors.submission_detail(ticket.pk)))
    return Status(200, _detail(selectors.get_submission_for(user, ticket.pk)))


def _submit_once(
    user: User, item: CatalogItem, requester: User, answers: list[dict[str, Any]], *, key: str | None, fingerprint: str
) -> tuple[Ticket, bool]:
    """``submit_request`` as ``user`` asked it, at most once per Idempotency-Key."""

    def submit() -> Ticket:
        return services.submit_request(
            item=item, requester=requester, answers=answers, channel=Ticket.Channel.API, by=user
        )

    try:
        if key:
            return ticket_services.create_once(key=key, fingerprint=fingerprint, by=user, create=submit)
        return submit(), True
    except NotFound as exc:
        if requester.pk == user.pk:
            raise
        # the person named may not see this item (another organisation, not in its groups)
        raise ValidationError({"requester": _("This person may not request this item.")}) from exc


# --- requests ---------------------------------------------------------------------------------------


@router.get("/requests", response=RequestPage)
def list_requests(request: HttpRequest, query: Query[RequestListQuery]) -> dict[str, Any]:
    """Catalog requests you may see (requesters: theirs and those shared with them; agents: the
    tickets they may see), oldest first; ``mine`` keeps the ones you asked for yourself."""
    user = current_user(request)
    submissions = selectors.submissions_visible_to(user, state=query.state, item_id=query.item, mine=query.mine)
    rows, cursor = keyset_page(submissions, order=("id",), cursor=query.cursor, limit=query.limit)
    return {"items": [_summary(s) for s in rows], "next_cursor": cursor}


@router.get("/requests/{int:ticket_id}", response=RequestDetail, url_name="catalog_request_detail")
def get_request(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """A catalog request by its ticket id: the answers, each approval stage with the people asked
    and their decisions, and the fulfilment tasks with their tickets' status. Its approvers may
    read it too; anyone else gets 404."""
    return _detail(selectors.get_submission_for(current_user(request), ticket_id))


# --- approvals --------------------------------------------------------------------------------------


@router.get("/approvals", response=ApprovalPage)
def list_approvals(request: HttpRequest, page: Query[PageQuery]) -> dict[str, Any]:
    """The approvals waiting for your decision, oldest first, each with the request's answers."""
    approvals = selectors.approvals_waiting_for(current_user(request), catalog_only=True)
    rows, cursor = keyset_page(approvals, order=("id",), cursor=page.cursor, limit=page.limit)
    return {"items": [_approval(a) for a in rows], "next_cursor": cursor}


@router.post("/approvals/{int:approval_id}", response=ApprovalOut)
def decide_approval(request: HttpRequest, approval_id: int, payload: DecisionIn) -> dict[str, Any]:
    """Approve or reject (a rejection needs a ``comment``: the requester reads it). An approval
    already decided, or no longer needed, answers 409; someone else's answers 404."""
    user = current_user(request)
    approval = selectors.get_approval_for(user, approval_id, catalog_only=True)
    services.decide(
        approval=approval, decision=DECISIONS[payload.decision], comment=payload.comment, by=user, via="api"
    )
    return _approval(selectors.get_approval_for(user, approval_id, catalog_only=True))
