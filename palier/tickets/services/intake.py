"""Ticket creation entry points of the pages and the API (with files, idempotent)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.people.models import User
from palier.tickets.models import (
    Ticket,
)
from palier.tickets.services.conversation import add_attachment
from palier.tickets.services.lifecycle import open_ticket

# --- pages -----------------------------------------------------------------------------------------


@transaction.atomic
def open_ticket_with_files(
    *, requester: User, by: User | None, uploads: Sequence[IO[bytes]] = (), **fields: Any
) -> Ticket:
    """Open a ticket and attach files to it in one transaction (a refused file opens nothing)."""
    ticket = open_ticket(requester=requester, by=by, **fields)
    for upload in uploads:
        add_attachment(ticket, by=by or requester, upload=upload)
    return ticket


CALL_MINUTES_MAX = 600


@transaction.atomic
def open_ticket_from_call(
    *, caller: User, by: User, minutes: int, uploads: Sequence[IO[bytes]] = (), **fields: Any
) -> Ticket:
    """A logged phone call: the caller's ticket (channel phone), the call's duration as time spent
    (``TimeEntry`` source "call") and a "call" history event, all or nothing."""
    from palier.tickets.history import record
    from palier.tickets.models import TicketEvent, TimeEntry

    if not 1 <= minutes <= CALL_MINUTES_MAX:
        raise ValidationError({"minutes": _("Between 1 and %(max)s minutes.") % {"max": CALL_MINUTES_MAX}})
    ticket = open_ticket_with_files(requester=caller, by=by, uploads=uploads, channel=Ticket.Channel.PHONE, **fields)
    TimeEntry.objects.create(ticket=ticket, user=by, minutes=minutes, source=TimeEntry.Source.CALL)
    record(ticket, TicketEvent.Kind.CALL, by=by, internal=True, minutes=minutes)
    return ticket


# --- idempotent creation (REST API) -------------------------------------------------------------


def replay(by: User, key: str, fingerprint: str) -> Ticket | None:
    """The ticket created earlier under ``by``'s Idempotency-Key, or None; the same key sent with
    another request is refused."""
    from palier.tickets.models import IdempotencyKey

    previous = IdempotencyKey.objects.filter(user=by, key=key).select_related("ticket").first()
    if previous is None:
        return None
    if previous.fingerprint != fingerprint:
        raise ValidationError(
            {"Idempotency-Key": _("This key was already used with a different request; use a new key.")}
        )
    return previous.ticket


@transaction.atomic
def create_once(*, key: str, fingerprint: str, by: User, create: Callable[[], Ticket]) -> tuple[Ticket, bool]:
    """Run ``create`` at most once per (user, key): a retry with the same request gets the first
    ticket back (``created`` is False); the same key with another request is refused. Used by
    every API endpoint that opens a ticket (tickets, catalog requests).

    Two concurrent retries race on the key's unique constraint; the loser's ticket is rolled back.
    """
    from palier.tickets.models import IdempotencyKey

    previous = replay(by, key, fingerprint)
    if previous is not None:
        return previous, False
    try:
        with transaction.atomic():
            ticket = create()
            IdempotencyKey.objects.create(user=by, key=key, fingerprint=fingerprint, ticket=ticket)
    except IntegrityError:
        previous = replay(by, key, fingerprint)
        if previous is None:
            raise
        return previous, False
    return ticket, True


def open_ticket_idempotent(*, key: str, fingerprint: str, by: User, **fields: Any) -> tuple[Ticket, bool]:
    """``open_ticket`` at most once per (user, key) (see ``create_once``)."""
    return create_once(key=key, fingerprint=fingerprint, by=by, create=lambda: open_ticket(by=by, **fields))
