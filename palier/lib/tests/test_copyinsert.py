"""Rows inserted in bulk (COPY on PostgreSQL) read back exactly as the ORM would have written them."""

from __future__ import annotations

from django.db.models.functions import Now

from palier.lib import copyinsert
from palier.tickets.models import TicketEvent
from palier.tickets.tests.builders import make_ticket


def test_rows_get_their_keys_in_order_and_keep_every_value(requester):
    ticket = make_ticket(requester)
    events = [
        TicketEvent(
            ticket=ticket,
            kind=TicketEvent.Kind.COMMENTED,  # an enum member is stored by its value
            actor=requester if i % 2 else None,
            is_internal=bool(i % 2),
            data={"n": i, "text": "l'équipe « réseau »\ttab\\slash\nline", "list": [1, None]},
        )
        for i in range(5)
    ]
    saved = copyinsert.insert_new(events)
    keys = [e.pk for e in saved]
    assert all(keys) and keys == sorted(keys) and len(set(keys)) == 5
    assert all(not e._state.adding for e in saved)
    read = list(TicketEvent.objects.filter(pk__in=keys).order_by("pk"))
    assert [e.data["n"] for e in read] == [0, 1, 2, 3, 4]
    assert read[1].data["text"] == "l'équipe « réseau »\ttab\\slash\nline" and read[1].data["list"] == [1, None]
    assert [e.kind for e in read] == ["commented"] * 5
    assert [e.actor_id for e in read] == [None, requester.pk, None, requester.pk, None]
    assert [e.is_internal for e in read] == [False, True, False, True, False]
    assert all(e.created_at == o.created_at for e, o in zip(read, events, strict=True))


def test_a_row_with_an_expression_takes_the_orm_path_with_the_same_result(requester):
    ticket = make_ticket(requester)
    events = [TicketEvent(ticket=ticket, kind="commented", data={}, created_at=Now()) for _ in range(2)]
    saved = copyinsert.insert_new(events)
    assert all(e.pk for e in saved)
    assert TicketEvent.objects.filter(pk__in=[e.pk for e in saved], created_at__isnull=False).count() == 2
