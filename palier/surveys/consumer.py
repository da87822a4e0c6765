"""The surveys' consumer of the ticket event stream: a ticket moved to "resolved" sends its
requester the survey email, once per resolution event (the email key is the event id)."""

from __future__ import annotations

import logging

from django.db import transaction

from palier.surveys import services
from palier.tickets.models import Ticket, TicketEvent

log = logging.getLogger(__name__)


def _is_resolution(event: TicketEvent) -> bool:
    return event.kind == TicketEvent.Kind.STATUS and (event.data or {}).get("new") == Ticket.Status.RESOLVED


def handle_events(events: list[TicketEvent]) -> None:
    """Each resolution in its own savepoint: one failure is logged and the others go on."""
    for event in events:
        if not _is_resolution(event):
            continue
        try:
            with transaction.atomic():
                services.request_survey(ticket=event.ticket, key=f"survey:event:{event.pk}")
        except Exception:
            log.exception("survey request failed for event %s", event.pk)
