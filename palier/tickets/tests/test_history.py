"""``history.record_once``: appending events that must exist once (SLA warnings and breaches)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from palier.tickets import history
from palier.tickets.models import TicketEvent
from palier.tickets.tests.builders import make_ticket


def _event(ticket_id: int, key: str) -> TicketEvent:
    return TicketEvent(ticket_id=ticket_id, kind=TicketEvent.Kind.SLA_WARNING, is_internal=True, data={"n": 1}, key=key)


def test_each_key_is_appended_once_and_the_caller_learns_which_it_added(requester) -> None:
    ticket = make_ticket(requester)
    at = timezone.now()
    assert history.record_once([_event(ticket.pk, "k:1"), _event(ticket.pk, "k:2")], at=at) == {"k:1", "k:2"}
    # a retry, or a second worker firing the same instant: only the new key is added
    assert history.record_once([_event(ticket.pk, "k:2"), _event(ticket.pk, "k:3")], at=at) == {"k:3"}
    rows = list(TicketEvent.objects.filter(key__startswith="k:").order_by("key"))
    assert [(e.key, e.actor_id, e.is_internal, e.data, e.created_at) for e in rows] == [
        (f"k:{n}", None, True, {"n": 1}, at) for n in (1, 2, 3)
    ]


def test_an_event_without_a_key_is_refused_and_nothing_is_written(requester) -> None:
    ticket = make_ticket(requester)
    before = TicketEvent.objects.count()
    with pytest.raises(ValueError, match="key"):
        history.record_once([_event(ticket.pk, "k:1"), _event(ticket.pk, "")], at=timezone.now())
    assert TicketEvent.objects.count() == before
