"""Tickets: create, list, read, update, transitions, comments, attachments, history, watchers, links."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.params.functions import Header

from palier.api import etag, lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.schemas.tickets import (
    AttachmentOut,
    AttachmentPage,
    CommentIn,
    CommentOut,
    CommentPage,
    EventPage,
    LinkIn,
    LinkOut,
    TicketCreate,
    TicketDetail,
    TicketPage,
    TicketPatch,
    TransitionIn,
    WatcherIn,
)
from palier.lib import files
from palier.people.models import User
from palier.tickets import downloads, permissions, selectors, services
from palier.tickets.models import Ticket
from palier.tickets.services.batching import open_ticket_batched

router = Router()
attachments_router = Router()

STATUSES = frozenset(Ticket.Status.values)


# --- helpers --------------------------------------------------------------------------------------


def render_ticket(ticket: Ticket, response: HttpResponse) -> Ticket:
    """Prefetch what the detail body shows (constant queries) and set the ETag header."""
    etag.set_etag(response, ticket)
    return selectors.ticket_detail_related(ticket)


def reread_ticket(user: User, ticket: Ticket, response: HttpResponse) -> Ticket:
    """After a write: re-read the ticket as the caller sees it, then render it."""
    return render_ticket(selectors.get_ticket_for(user, ticket.pk), response)


def expected_ticket_version(ticket: Ticket, if_match: str | None, version: int | None, *, required: bool) -> int | None:
    """The version of ``ticket`` the client saw (``If-Match`` or the body's ``version``)."""
    return etag.expected_version(
        ticket,
        if_match,
        version,
        required=required,
        mismatch=_("If-Match does not match this ticket; send the ETag you received."),
    )


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class TicketFilterQuery(Schema):
    """The filters of the ticket list (also the ``filter`` of ``POST /tickets/bulk-update``)."""

    status: list[str] = Field(default_factory=list, description="Repeat it or separate with commas.")
    kind: str | None = None
    priority: list[str] = Field(default_factory=list, description="1 to 4; repeat it or separate with commas.")
    group: int | None = None
    assignee: int | None = None
    unassigned: bool = False
    requester: int | None = None
    category: int | None = None
    organisation: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str = Field("", max_length=200, description="Full text: subject, description and comments.")

    def to_filters(self) -> selectors.TicketFilters:
        statuses = _split(self.status)
        if set(statuses) - STATUSES:
            raise ValidationError({"status": _("Unknown status; use one of: %(s)s.") % {"s": ", ".join(STATUSES)}})
        priorities = _split(self.priority)
        if any(p not in {"1", "2", "3", "4"} for p in priorities):
            raise ValidationError({"priority": _("The priority must be between 1 and 4.")})
        if self.kind is not None and self.kind not in Ticket.Kind.values:
            raise ValidationError({"kind": _("Use incident or request.")})
        return selectors.TicketFilters(
            status=statuses,
            kind=self.kind,
            priority=[int(p) for p in priorities],
            group=self.group,
            assignee=self.assignee,
            unassigned=self.unassigned,
            requester=self.requester,
            category=self.category,
            organisation=self.organisation,
            created_after=self.created_after,
            created_before=self.created_before,
            q=self.q,
        )


class TicketListQuery(TicketFilterQuery):
    sort: str = Field(selectors.DEFAULT_SORT, description=f"One of: {', '.join(selectors.SORTS)}.")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


# --- tickets --------------------------------------------------------------------------------------


def _sent_fields(user: User, payload: TicketCreate) -> set[str]:
    """The fields the caller chose: sent with a value other than the one the API would use."""
    sent = set()
    for name in payload.model_fields_set:
        default = TicketCreate.model_fields[name].get_default(call_default_factory=True)
        value = getattr(payload, name)
        if value != default and not (name == "requester" and value == user.pk):
            sent.add(name)
    return sent


def _create_fields(user: User, payload: TicketCreate) -> dict[str, Any]:
    fields = payload.model_dump(exclude={"requester", "group", "assignee", "category"})
    fields["requester"] = (
        user if payload.requester is None else lookups.user_by_id(payload.requester, field="requester")
    )
    fields["group"] = None if payload.group is None else lookups.group_by_id(payload.group)
    fields["assignee"] = None if payload.assignee is None else lookups.user_by_id(payload.assignee, field="assignee")
    fields["category"] = None if payload.category is None else lookups.category_by_id(payload.category)
    return fields


@router.post("", response={200: TicketDetail, 201: TicketDetail}, url_name="ticket_list")
def create_ticket(
    request: HttpRequest,
    payload: TicketCreate,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Open an incident or service request. Retrying with the same ``Idempotency-Key`` returns the
    ticket created the first time (200) instead of a second one."""
    user = current_user(request)
    permissions.check_fields(user, _sent_fields(user, payload))
    fields = _create_fields(user, payload)
    created = True
    if idempotency_key:
        fingerprint = hashlib.sha256(json.dumps(payload.model_dump(), sort_keys=True).encode()).hexdigest()
        ticket, created = services.open_ticket_idempotent(
            key=idempotency_key, fingerprint=fingerprint, by=user, **fields
        )
    else:
        ticket = open_ticket_batched(services.prepare_ticket(by=user, **fields))
    # a ticket just created is rendered from memory (the caller supplied all of it); a replayed
    # one is read again as the caller may see it now
    if created:
        etag.set_etag(response, ticket)
        body = selectors.new_ticket_related(ticket)
    else:
        body = reread_ticket(user, ticket, response)
    response["Location"] = reverse("api:ticket_detail", args=[ticket.pk])
    return Status(201 if created else 200, body)


@router.get("", response=TicketPage)
def list_tickets(request: HttpRequest, query: Query[TicketListQuery]) -> selectors.TicketPage:
    """Tickets you may see, filtered and keyset-paginated: pass ``next_cursor`` back as ``cursor``."""
    user = current_user(request)
    filters = query.to_filters()
    if query.sort not in selectors.SORTS:
        raise Problem(
            400, _("Unknown sort."), errors={"sort": [_("Use one of: %(s)s.") % {"s": ", ".join(selectors.SORTS)}]}
        )
    try:
        return selectors.ticket_page(user, filters=filters, sort=query.sort, cursor=query.cursor, limit=query.limit)
    except selectors.BadCursor as exc:
        raise Problem(
            400,
            _("The cursor is not valid for this sort; start again from the first page."),
            errors={"cursor": [_("Invalid cursor.")]},
        ) from exc


@router.get("/by-reference/{reference}", response=TicketDetail)
def get_ticket_by_reference(request: HttpRequest, reference: str, response: HttpResponse) -> Ticket:
    """A ticket by its human reference, e.g. INC-1042 or REQ-311."""
    user = current_user(request)
    ticket = selectors.get_ticket_by_reference(user, reference)
    if ticket is None:
        raise Problem(404, _("There is no ticket %(ref)s, or you are not allowed to see it.") % {"ref": reference})
    return reread_ticket(user, ticket, response)


@router.get("/{int:ticket_id}", response=TicketDetail, url_name="ticket_detail")
def get_ticket(request: HttpRequest, ticket_id: int, response: HttpResponse) -> Ticket | HttpResponse:
    """One ticket with its tags, watchers and links. The ETag header carries its version;
    ``If-None-Match`` with the current ETag answers 304."""
    ticket = selectors.get_ticket_for(current_user(request), ticket_id)
    if request.headers.get("If-None-Match") == ticket.etag:
        return HttpResponse(status=304, headers={"ETag": ticket.etag})
    return render_ticket(ticket, response)


@router.patch("/{int:ticket_id}", response=TicketDetail)
def update_ticket(
    request: HttpRequest,
    ticket_id: int,
    payload: TicketPatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Ticket:
    """Change fields (agents). Send the version you saw (If-Match or ``version``): a stale one answers 412."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    expected = expected_ticket_version(ticket, if_match, payload.version, required=True)
    changes = payload.model_dump(exclude_unset=True, exclude={"version"})
    permissions.check_fields(user, changes, ticket=ticket)
    for name, getter in (
        ("group", lookups.group_by_id),
        ("assignee", lookups.user_by_id),
        ("category", lookups.category_by_id),
    ):
        if changes.get(name) is not None:
            changes[name] = getter(changes[name], field=name)
    ticket = services.update_ticket(ticket, by=user, expected_version=expected, changes=changes)
    return reread_ticket(user, ticket, response)


@router.post("/{int:ticket_id}/transitions", response=TicketDetail)
def transition_ticket(
    request: HttpRequest,
    ticket_id: int,
    payload: TransitionIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Ticket:
    """Move the ticket to another status; an illegal move answers 409."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    expected = expected_ticket_version(ticket, if_match, payload.version, required=False)
    ticket = services.transition_ticket(
        ticket, to=payload.status, by=user, expected_version=expected, note=payload.note
    )
    return reread_ticket(user, ticket, response)


# --- conversation ---------------------------------------------------------------------------------


@router.get("/{int:ticket_id}/comments", response=CommentPage)
def list_comments(request: HttpRequest, ticket_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """Replies and, for agents, internal notes, oldest first."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    items, cursor = keyset_page(
        selectors.comments_visible(user, ticket), order=("id",), cursor=page.cursor, limit=page.limit
    )
    return {"items": items, "next_cursor": cursor}


@router.post("/{int:ticket_id}/comments", response={201: CommentOut})
def add_comment(request: HttpRequest, ticket_id: int, payload: CommentIn) -> Status[Any]:
    """A public reply, or an internal note (agents only) with ``internal: true``."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    comment = services.comment_on_ticket(
        ticket, by=user, body=payload.body, internal=payload.internal, channel=Ticket.Channel.API
    )
    return Status(201, selectors.get_comment_for(user, ticket, comment.pk))


@router.get("/{int:ticket_id}/history", response=EventPage)
def ticket_history(request: HttpRequest, ticket_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    """Every change of the ticket, oldest first (internal events for agents only)."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    items, cursor = keyset_page(
        selectors.events_visible(user, ticket), order=("id",), cursor=page.cursor, limit=page.limit
    )
    for event in items:
        event.ticket = ticket  # the audience decision reads it (no query per event)
    return {"items": items, "next_cursor": cursor}


# --- attachments ----------------------------------------------------------------------------------


@router.get("/{int:ticket_id}/attachments", response=AttachmentPage)
def list_attachments(request: HttpRequest, ticket_id: int, page: Query[PageQuery]) -> dict[str, Any]:
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    qs = selectors.attachments_visible(user, ticket)
    items, cursor = keyset_page(qs, order=("id",), cursor=page.cursor, limit=page.limit)
    return {"items": items, "next_cursor": cursor}


@router.post("/{int:ticket_id}/attachments", response={201: AttachmentOut})
def upload_attachment(request: HttpRequest, ticket_id: int, file: File[UploadedFile]) -> Status[Any]:
    """Upload one file (multipart/form-data, field ``file``). Too large: 413; disguised or blocked: 422."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    if file.size is not None and file.size > files.max_attachment_bytes():  # UploadLimitMiddleware stops it first
        message = files.too_large_message(files.sanitise_filename(file.name or ""))
        raise Problem(413, message, errors={"file": [message]})
    attachment = services.add_attachment(ticket, by=user, upload=file)
    return Status(201, attachment)


@attachments_router.get("/{int:attachment_id}/download", response={200: None}, url_name="attachment_download")
def download_attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    """The file itself, only for people who may see it."""
    return downloads.attachment_response(selectors.get_attachment_for(current_user(request), attachment_id))


# --- watchers and links ---------------------------------------------------------------------------


@router.post("/{int:ticket_id}/watchers", response={204: None})
def add_watcher(request: HttpRequest, ticket_id: int, payload: WatcherIn) -> Status[Any]:
    """Follow the ticket (or, for agents, make someone else follow it)."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    watcher = user if payload.user is None else lookups.user_by_id(payload.user)
    services.add_watcher(ticket, user=watcher, by=user)
    return Status(204, None)


@router.delete("/{int:ticket_id}/watchers/{int:user_id}", response={204: None})
def remove_watcher(request: HttpRequest, ticket_id: int, user_id: int) -> Status[Any]:
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    services.remove_watcher(ticket, user=lookups.user_by_id(user_id), by=user)
    return Status(204, None)


@router.post("/{int:ticket_id}/links", response={201: LinkOut})
def add_link(request: HttpRequest, ticket_id: int, payload: LinkIn) -> Status[Any]:
    """Link this ticket to another one: parent of, related to, or duplicate of (agents)."""
    user = current_user(request)
    source = selectors.get_ticket_for(user, ticket_id)
    target = selectors.get_ticket_for(user, payload.target)
    link = services.link_tickets(source, target=target, kind=payload.kind, by=user)
    return Status(201, selectors.LinkView(link.pk, link.kind, "out", target))


@router.delete("/{int:ticket_id}/links/{int:link_id}", response={204: None})
def remove_link(request: HttpRequest, ticket_id: int, link_id: int) -> Status[Any]:
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    services.unlink_tickets(selectors.get_link_for(ticket, link_id), by=user)
    return Status(204, None)
