"""Test builders for tickets (go through the services, like real callers)."""

from __future__ import annotations

from typing import Any

from palier.people.models import User
from palier.tickets import services
from palier.tickets.models import Ticket


def make_ticket(requester: User, *, by: User | None = None, **fields: Any) -> Ticket:
    fields.setdefault("subject", "Imprimante en panne au 2e étage")
    fields.setdefault("description", "L'imprimante affiche une erreur de bourrage papier.")
    return services.open_ticket(requester=requester, by=by if by is not None else requester, **fields)
