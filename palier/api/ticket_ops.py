"""Merging and splitting tickets (docs/merge-split.md): thin handlers over
``tickets.services.merge_tickets``, ``undo_merge`` and ``split_ticket``.

Errors: 404 a ticket the caller cannot see (any of them: nothing is merged), 403 a ticket the
caller may not edit or another organisation's ticket, 409 a ticket already merged or closed, a
cycle, or an undo after its window, 422 an empty list, a ticket merged into itself, a message that
is not the ticket's or is all it holds (422 with the field named), 412 a stale ``If-Match``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Status
from ninja.params.functions import Header

from palier.api.auth import current_user
from palier.api.schemas.common import Input
from palier.api.schemas.tickets import TicketDetail
from palier.api.tickets import expected_ticket_version, reread_ticket
from palier.tickets import selectors, services
from palier.tickets.models import Ticket

router = Router()


class MergeIn(Input):
    tickets: list[int] = Field(
        min_length=1, max_length=services.MAX_MERGE, description="Ids of the tickets to merge into this one."
    )
    version: int | None = Field(None, description="The version of this ticket you saw (or send If-Match).")


class SplitIn(Input):
    comment: int = Field(description="Id of the reply or note to move out into a new ticket.")
    subject: str = Field("", max_length=250, description="The new ticket's subject (default: the original's).")


@router.post("/{int:ticket_id}/merge", response=TicketDetail)
def merge(
    request: HttpRequest,
    ticket_id: int,
    payload: MergeIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Ticket:
    """Merge the listed tickets into this one (all or nothing). Their replies and files move here,
    their requesters and watchers watch this ticket, and each is closed as a duplicate of it.
    Answers this ticket."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    expected = expected_ticket_version(ticket, if_match, payload.version, required=False)
    kept = services.merge_tickets(ticket, merged=payload.tickets, by=user, expected_version=expected)
    return reread_ticket(user, kept, response)


@router.post("/{int:ticket_id}/unmerge", response=TicketDetail)
def unmerge(request: HttpRequest, ticket_id: int, response: HttpResponse) -> Ticket:
    """Undo the merge of this (merged) ticket, within ``PALIER_MERGE_UNDO_MINUTES`` of the merge:
    what moved comes back and the ticket gets its status back. Answers this ticket."""
    user = current_user(request)
    ticket = services.undo_merge(selectors.get_ticket_for(user, ticket_id), by=user)
    return reread_ticket(user, ticket, response)


@router.post("/{int:ticket_id}/split", response={201: TicketDetail})
def split(request: HttpRequest, ticket_id: int, payload: SplitIn, response: HttpResponse) -> Status[Ticket]:
    """Move one reply or note (and its files) out of this ticket into a new ticket linked to it.
    Answers the new ticket (201)."""
    user = current_user(request)
    new = services.split_ticket(
        selectors.get_ticket_for(user, ticket_id), comment=payload.comment, by=user, subject=payload.subject
    )
    return Status(201, reread_ticket(user, new, response))
