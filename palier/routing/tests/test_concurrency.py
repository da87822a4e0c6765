"""Parallel creations never give two tickets to the same agent by a race (real connections, PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from palier.routing import services
from palier.routing.tests.conftest import members
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL (SQLite test DB is in memory)"
    ),
]


def _create_in_parallel(requester, count: int) -> list[int]:
    def create(i: int) -> int:
        try:
            return make_ticket(requester, subject=f"Parallel {i}").pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        return list(pool.map(create, range(count)))


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_fair_under_parallel_creation(make_group, make_rule, requester):
    group = make_group("Desk", strategy="round_robin", agents=4)
    make_rule("All", group)
    ids = _create_in_parallel(requester, 20)
    counts = Counter(Ticket.objects.filter(pk__in=ids).values_list("assignee_id", flat=True))
    assert counts == {agent.pk: 5 for agent in members(group)}


@pytest.mark.django_db(transaction=True)
def test_least_loaded_never_exceeds_the_cap(make_group, make_rule, requester):
    group = make_group("Capped", strategy="least_loaded", agents=3)
    make_rule("All", group)
    for agent in members(group):
        services.set_working_hours(agent, by=None, hours=[], max_open_tickets=2)
    ids = _create_in_parallel(requester, 12)
    counts = Counter(Ticket.objects.filter(pk__in=ids).values_list("assignee_id", flat=True))
    assert counts == {**{agent.pk: 2 for agent in members(group)}, None: 6}
