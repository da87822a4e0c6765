"""Ticket numbers stay unique when many tickets are opened at the same moment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL (SQLite test DB is in memory)"
)


@pytest.mark.django_db(transaction=True)
def test_parallel_creations_get_distinct_numbers(requester):
    def create(_i: int) -> int:
        try:
            return make_ticket(requester, subject=f"Parallel {_i}").number
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(40)))
    assert len(set(numbers)) == 40
    assert Ticket.objects.filter(kind="incident").count() == 40
