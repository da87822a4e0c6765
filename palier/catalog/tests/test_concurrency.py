"""Two approvers of an "any one" stage deciding at the same moment (own connections, real
commits, PostgreSQL): the next stage opens once and each approver is asked once."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from palier.catalog import services
from palier.catalog.models import Approval
from palier.catalog.services import approvals as engine
from palier.catalog.tests.builders import make_item, submit
from palier.notifications.models import OutgoingEmail
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


def _at_once(work: list[Callable[[], None]]) -> None:
    start = threading.Barrier(len(work))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_last_two_approvals_of_a_parallel_group_at_once_open_the_next_stage_once(requester: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database locks tables instead of waiting; SQLite serialises writers")
    first, second, final = (people.create_user(email=f"{n}@acme.test", full_name=n) for n in ("fin", "sec", "final"))
    item = make_item(
        stages=[
            {"kind": "people", "people": [first]},
            {"kind": "people", "people": [second], "with_previous": True},
            {"kind": "people", "people": [final]},
        ]
    )
    ticket = submit(item, requester)
    pending = {user.pk: Approval.objects.get(approver=user) for user in (first, second)}
    _at_once(
        [lambda u=user: services.decide(approval=pending[u.pk], decision="approved", by=u) for user in (first, second)]
    )  # type: ignore[misc]
    assert Approval.objects.filter(approver=final).count() == 1  # asked once, after both
    assert list(Approval.objects.filter(approver__in=[first, second]).values_list("decision", flat=True)) == [
        "approved",
        "approved",
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.PENDING_APPROVAL


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_reminder_runs_at_once_remind_each_approver_once(requester: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database locks tables instead of waiting; SQLite serialises writers")
    people_asked = [people.create_user(email=f"p{n}@acme.test", full_name=f"P{n}") for n in range(3)]
    item = make_item(stages=[{"kind": "people", "people": people_asked, "rule": "all"}], remind_after_hours=1)
    submit(item, requester)
    later = timezone.now() + datetime.timedelta(hours=2)
    counts: list[int] = []
    _at_once([lambda: counts.append(engine.send_reminders(now=later)) for _ in range(2)])
    assert sum(counts) == 3
    keys = OutgoingEmail.objects.filter(key__startswith="catalog-approval-reminder-").values_list("address", flat=True)
    assert sorted(keys) == ["p0@acme.test", "p1@acme.test", "p2@acme.test"]
