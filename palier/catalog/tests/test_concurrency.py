"""Two approvers of an "any one" stage deciding at the same moment (own connections, real
commits, PostgreSQL): the next stage opens once and each approver is asked once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from palier.catalog import services
from palier.catalog.models import Approval
from palier.catalog.tests.builders import make_item, submit
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_any_one_approvals_open_the_next_stage_once(requester: User, triage: SupportGroup) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database locks tables instead of waiting; SQLite serialises writers")
    approvers = []
    for n in range(2):
        user = people.create_user(email=f"a{n}@desk.test", full_name=f"A{n}", role=User.Role.AGENT)
        people.add_group_member(triage, user=user)
        approvers.append(user)
    final = people.create_user(email="final@acme.test", full_name="Final")
    item = make_item(stages=[{"kind": "group", "group": triage, "rule": "any"}, {"kind": "people", "people": [final]}])
    ticket = submit(item, requester)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user: User) -> None:
        try:
            approval = Approval.objects.get(approver=user)
            start.wait()
            services.decide(approval=approval, decision="approved", by=user)
            outcomes.append("approved")
        except services.AlreadyDecided:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "approved"]
    assert Approval.objects.filter(approver=final).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.PENDING_APPROVAL
