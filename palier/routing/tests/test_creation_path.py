"""What routing and assignment cost a ticket creation, in queries (speed is measured in bench/)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palier.routing.tests.conftest import members
from palier.tickets.models import Category
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db

# the cache token, the category's ancestors, the rule's group, the group lock (PostgreSQL), the
# candidates with their load, the turn stamp
ROUTING_BUDGET = 6


def test_creation_with_30_rules_and_round_robin_stays_within_budget(
    make_group, make_rule, requester, django_assert_max_num_queries
):
    vpn = Category.objects.get(slug="network-vpn")
    make_ticket(requester, category=vpn)
    with CaptureQueriesContext(connection) as plain:  # no rule: the triage group, manual
        make_ticket(requester, category=vpn)
    desk = make_group("Desk", strategy="round_robin", agents=4)
    other = make_group("Other", level=2)
    for i in range(29):
        make_rule(f"Rule {i}", other, words=f"nomatch{i}", category=Category.objects.get(slug="software"))
    make_rule("Catch-all", desk)
    make_ticket(requester)  # warms the rule cache
    with django_assert_max_num_queries(len(plain.captured_queries) + ROUTING_BUDGET):
        ticket = make_ticket(requester, category=vpn)
    assert ticket.assignee in members(desk)
