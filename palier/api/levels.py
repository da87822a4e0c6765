"""Support levels and service levels of a ticket: escalate, de-escalate, route again, the vendor's
reference, and the SLA clocks with their timeline. Thin handlers over the routing and SLA services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.params.functions import Header

from palier.api.auth import current_user
from palier.api.lookups import group_by_id
from palier.api.schemas.tickets import EscalationIn, TicketDetail, TicketSlaOut, VendorReferenceIn
from palier.api.tickets import expected_ticket_version, render_ticket, reread_ticket
from palier.lib.errors import PermissionDenied
from palier.routing import services as routing
from palier.sla import selectors as sla
from palier.tickets import permissions, selectors
from palier.tickets.models import Ticket

router = Router()


def _move(request: HttpRequest, ticket_id: int, payload: EscalationIn, if_match: str | None, *, up: bool) -> Ticket:
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    if not permissions.works_on(user, ticket):
        raise PermissionDenied(_("Only agents can escalate tickets."))
    expected = expected_ticket_version(ticket, if_match, payload.version, required=False)
    group = None if payload.group is None else group_by_id(payload.group)
    move = routing.escalate if up else routing.deescalate
    return move(
        ticket, by=user, reason=payload.reason, to_group=group, to_level=payload.level, expected_version=expected
    )


@router.post("/{int:ticket_id}/escalate", response=TicketDetail)
def escalate(
    request: HttpRequest,
    ticket_id: int,
    payload: EscalationIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Ticket:
    """Move the ticket up: to the chosen group or level, else the group's escalation group, else the
    next level's default group for its category. The reason is required."""
    # rendered from memory: the caller may no longer see the ticket once it left their groups
    return render_ticket(_move(request, ticket_id, payload, if_match, up=True), response)


@router.post("/{int:ticket_id}/deescalate", response=TicketDetail)
def deescalate(
    request: HttpRequest,
    ticket_id: int,
    payload: EscalationIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Ticket:
    """Move the ticket down a level (or to the chosen group or level). The reason is required."""
    return render_ticket(_move(request, ticket_id, payload, if_match, up=False), response)


@router.post("/{int:ticket_id}/reroute", response=TicketDetail)
def reroute(request: HttpRequest, ticket_id: int, response: HttpResponse) -> Ticket:
    """Run the routing rules again (after a recategorisation); no match leaves the ticket where it is."""
    user = current_user(request)
    ticket = routing.reroute(selectors.get_ticket_for(user, ticket_id), by=user)
    return reread_ticket(user, ticket, response)


@router.put("/{int:ticket_id}/vendor-reference", response=TicketDetail)
def vendor_reference(
    request: HttpRequest,
    ticket_id: int,
    payload: VendorReferenceIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> Ticket:
    """Record the external vendor's own reference number for this ticket."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    expected = expected_ticket_version(ticket, if_match, payload.version, required=False)
    ticket = routing.set_vendor_reference(
        ticket, by=user, reference=payload.vendor_reference, expected_version=expected
    )
    return reread_ticket(user, ticket, response)


@router.get("/{int:ticket_id}/sla", response=TicketSlaOut)
def ticket_sla(request: HttpRequest, ticket_id: int) -> dict[str, object]:
    """The SLA of a ticket. Requesters get the plain-words expectation only; agents also get the
    clocks (due, business minutes left, paused, warned, breached, outcome) and the timeline."""
    user = current_user(request)
    ticket = selectors.get_ticket_for(user, ticket_id)
    out: dict[str, object] = {"expectation": sla.requester_expectation(ticket), "clocks": [], "timeline": []}
    if permissions.works_on(user, ticket):  # not an agent's own request handled by others
        out["clocks"] = sla.ticket_sla(ticket).clocks
        out["timeline"] = sla.timeline(ticket)
    return out
