"""Recurring tickets: the schedule in words, one ticket per slot even with two workers, pause."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from palier.automation import services
from palier.automation.models import RecurringTicket
from palier.automation.services import recurring
from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket

MONDAY_8 = "0 8 * * 1"


def _make(admin_user: User, requester: User, now: datetime, **fields: object) -> RecurringTicket:
    values: dict[str, object] = {
        "name": "Backups", "subject": "Vérifier les sauvegardes", "requester": requester, "schedule": MONDAY_8,
    }  # fmt: skip
    values.update(fields)
    return services.create_recurring(by=admin_user, now=now, **values)


def test_schedule_in_french_and_english() -> None:
    assert services.describe_schedule(MONDAY_8, language="fr") == "À 08:00, uniquement le lundi"
    assert services.describe_schedule(MONDAY_8, language="en") == "At 08:00, only on Monday"


def test_next_run_in_the_schedules_time_zone(admin_user: User, requester: User) -> None:
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    row = _make(admin_user, requester, saturday)
    assert row.next_run_at == datetime(2026, 6, 8, 6, 0, tzinfo=UTC)  # 08:00 in Paris, summer time


def test_invalid_schedule_is_refused_per_field(admin_user: User, requester: User) -> None:
    with pytest.raises(ValidationError) as error:
        _make(admin_user, requester, datetime(2026, 6, 6, tzinfo=UTC), schedule="every monday")
    assert "schedule" in error.value.error_dict
    assert not RecurringTicket.objects.exists()


def test_one_ticket_per_slot(admin_user: User, requester: User, triage: SupportGroup) -> None:
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    row = _make(admin_user, requester, saturday, group=triage, impact="high", urgency="medium")
    assert services.run_due_recurring(now=saturday + timedelta(days=1)) == 0
    monday = datetime(2026, 6, 8, 6, 0, 30, tzinfo=UTC)
    assert services.run_due_recurring(now=monday) == 1
    assert services.run_due_recurring(now=monday) == 0
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.kind, ticket.priority, ticket.group_id) == (
        "Vérifier les sauvegardes", "request", 2, triage.pk,
    )  # fmt: skip
    row.refresh_from_db()
    assert row.next_run_at == datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
    assert row.last_ticket_id == ticket.pk


def test_paused_rows_open_nothing_and_resume_from_now(admin_user: User, requester: User) -> None:
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    row = _make(admin_user, requester, saturday)
    row = services.set_recurring_active(row, by=admin_user, active=False, now=saturday)
    assert row.next_run_at is None
    assert services.run_due_recurring(now=saturday + timedelta(days=30)) == 0
    later = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # a Wednesday
    row = services.set_recurring_active(row, by=admin_user, active=True, now=later)
    assert row.next_run_at == datetime(2026, 7, 6, 6, 0, tzinfo=UTC)


def test_a_worker_that_read_the_slot_late_opens_nothing(admin_user: User, requester: User) -> None:
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    _make(admin_user, requester, saturday)
    monday = datetime(2026, 6, 8, 6, 1, tzinfo=UTC)
    first, second = RecurringTicket.objects.get(), RecurringTicket.objects.get()  # both read the same slot
    assert recurring._run_one(first, monday) is True
    assert recurring._run_one(second, monday) is False
    assert Ticket.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_take_a_slot_once(admin_user: User, requester: User) -> None:
    saturday = datetime(2026, 6, 6, 12, 0, tzinfo=UTC)
    _make(admin_user, requester, saturday)
    monday = datetime(2026, 6, 8, 6, 1, tzinfo=UTC)
    barrier = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(services.run_due_recurring(now=monday))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert Ticket.objects.count() == 1
