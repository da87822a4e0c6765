"""What automation rules read about a ticket's changes, for a batch of tickets (one query)."""

from __future__ import annotations

from collections.abc import Iterable

from palier.changes.models import ChangeTicket


def changed_ticket_ids(ticket_ids: Iterable[int]) -> frozenset[int]:
    """Those of ``ticket_ids`` linked to a change (related or caused by it)."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return frozenset()
    return frozenset(ChangeTicket.objects.filter(ticket_id__in=ids).values_list("ticket_id", flat=True).distinct())
