"""The ticket event stream: consumers get every committed event once, in order, and a failing or
interrupted consumer gets its batch again."""

from __future__ import annotations

import pytest

from palier.tickets import services, stream
from palier.tickets.models import StreamCursor, TicketEvent
from palier.tickets.tests.builders import make_ticket


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A consumer named "probe" (the only one) that remembers the ids it was handed."""
    got: list[int] = []
    monkeypatch.setattr(stream, "_handlers", {})
    stream.subscribe("probe", lambda events: got.extend(e.pk for e in events))
    return got


def test_consumer_gets_each_event_once_in_order(seen, requester, agent):
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=agent, body="Bonjour, je regarde.")
    expected = list(TicketEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert stream.pump_all() == len(expected)
    assert seen == expected
    assert stream.pump_all() == 0
    assert seen == expected
    assert stream.lag("probe") == 0


def test_failing_consumer_gets_the_same_batch_again(monkeypatch, requester):
    monkeypatch.setattr(stream, "_handlers", {})
    calls: list[list[int]] = []

    def flaky(events: list[TicketEvent]) -> None:
        calls.append([e.pk for e in events])
        if len(calls) == 1:
            raise RuntimeError("SMTP server down")

    stream.subscribe("flaky", flaky)
    make_ticket(requester)
    with pytest.raises(RuntimeError):
        stream.pump("flaky")
    assert stream.lag("flaky") == 1
    assert stream.pump("flaky") == 1
    assert calls[0] == calls[1]
    assert stream.lag("flaky") == 0


def test_a_gap_left_by_a_rollback_does_not_hold_the_stream(seen, requester):
    for _ in range(3):
        make_ticket(requester)
    first, middle, last = TicketEvent.objects.order_by("pk")
    middle.delete()  # the id of a transaction that rolled back
    assert stream.pump("probe", now=last.created_at) == 2
    assert seen == [first.pk, last.pk]


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_gap_waits_for_the_transaction_that_holds_it(seen, requester, agent):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: its gaps are always rollbacks")
    import psycopg

    ticket = make_ticket(requester)
    stream.pump_all()
    params = connection.get_connection_params()
    with psycopg.connect(**params) as other:  # another request, still running
        other.execute(
            "INSERT INTO tickets_ticketevent (ticket_id, kind, is_internal, data, created_at)"
            " VALUES (%s, 'noted', true, '{}', now()) RETURNING id",
            [ticket.pk],
        )
        services.comment_on_ticket(ticket, by=agent, body="Je regarde.")  # a later id, committed first
        later = TicketEvent.objects.latest("pk")
        before = len(seen)
        assert stream.pump("probe", now=later.created_at) == 0  # waits for the running transaction
        other.commit()
    assert stream.pump("probe", now=later.created_at) == 2
    assert seen[before:] == sorted(seen[before:]) and seen[-1] == later.pk


def test_commit_queues_one_pump_and_the_consumer_runs(seen, requester, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ticket = make_ticket(requester)
        services.comment_on_ticket(ticket, by=agent, body="Pouvez-vous redémarrer ?")
    # one pump for the whole test transaction, however many events it recorded
    assert sum(1 for cb in callbacks if cb is stream._nudge) == 1
    assert seen == list(TicketEvent.objects.order_by("pk").values_list("pk", flat=True))


def test_a_consumer_added_later_starts_at_the_end(seen, requester, monkeypatch):
    make_ticket(requester)
    stream.pump_all()
    late: list[int] = []
    stream.subscribe("late", lambda events: late.extend(e.pk for e in events))
    stream.ensure_cursors()
    assert StreamCursor.objects.get(name="late").position == TicketEvent.objects.latest("pk").pk
    newer = make_ticket(requester)
    stream.pump_all()
    assert late == list(newer.events.values_list("pk", flat=True))


def test_a_burst_is_delivered_in_slices_each_job_queuing_the_next(seen, requester, monkeypatch):
    """A pump job stops after its time slice and queues its successor, so a burst of events
    never holds a worker for the whole burst; the next jobs deliver the rest, in order."""
    from palier.tickets import tasks

    for i in range(7):
        make_ticket(requester, subject=f"Burst {i}")
    expected = list(TicketEvent.objects.order_by("pk").values_list("pk", flat=True))
    queued: list[str] = []
    monkeypatch.setattr(stream, "BATCH", 2)
    monkeypatch.setattr(tasks, "PUMP_SECONDS", 0.0)  # every slice ends after one batch
    monkeypatch.setattr(stream, "pump_again", lambda: queued.append("pump"))

    def one_job() -> int:
        handled, more = stream.pump_for(tasks.PUMP_SECONDS, batch=2)
        if more:
            stream.pump_again()
        return handled

    assert one_job() == 2 and queued == ["pump"]  # a slice, then the successor is queued
    while queued:
        queued.pop()
        one_job()
    assert seen == expected
    assert stream.pump_all() == 0


def test_the_pump_job_queues_another_when_events_are_left(seen, requester, monkeypatch):
    from palier.tickets import tasks

    for i in range(3):
        make_ticket(requester, subject=f"Left {i}")
    monkeypatch.setattr(tasks, "PUMP_SECONDS", 0.0)
    again: list[bool] = []
    monkeypatch.setattr(stream, "pump_again", lambda: again.append(True))
    original = stream.pump_for
    monkeypatch.setattr(stream, "pump_for", lambda seconds: original(seconds, batch=1))
    assert tasks.pump_stream_task.call() == 1
    assert again == [True]


@pytest.mark.django_db(transaction=True)
def test_a_failing_nudge_after_commit_does_not_fail_the_change(seen, requester, monkeypatch):
    """The change is committed before the nudge runs: if the nudge fails (database or queue down),
    the caller must still learn that its change succeeded (the periodic pump delivers later)."""

    def broken() -> None:
        raise RuntimeError("queue down")

    monkeypatch.setattr(stream, "_nudge", broken)
    ticket = make_ticket(requester, subject="Committed anyway")
    assert TicketEvent.objects.filter(ticket=ticket).exists()
    assert stream.pump_all() >= 1  # the safety net delivers it


def _insert_event_elsewhere(other: object, ticket_pk: int) -> int:
    row = other.execute(  # type: ignore[attr-defined]
        "INSERT INTO tickets_ticketevent (ticket_id, kind, is_internal, data, created_at)"
        " VALUES (%s, 'noted', true, '{}', now()) RETURNING id",
        [ticket_pk],
    ).fetchone()
    return int(row[0])


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_transaction_open_longer_than_any_window_loses_nothing(seen, requester, agent):
    """A request records an event, then stays open (a slow mail, a lock wait) for longer than any
    time window: the later events wait for it, and its event is delivered once it commits."""
    from datetime import timedelta

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: its gaps are always rollbacks")
    import psycopg

    ticket = make_ticket(requester)
    stream.pump_all()
    with psycopg.connect(**connection.get_connection_params()) as other:
        slow = _insert_event_elsewhere(other, ticket.pk)
        services.comment_on_ticket(ticket, by=agent, body="Je regarde.")  # a later id, committed first
        later = TicketEvent.objects.latest("pk")
        before = len(seen)
        for minutes in (1, 10, 60):  # the slow transaction is still running an hour later
            assert stream.pump("probe", now=later.created_at + timedelta(minutes=minutes)) == 0
        other.commit()
    assert stream.pump("probe") == 2
    assert seen[before:] == [slow, later.pk]


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_gap_does_not_wait_for_transactions_that_began_after_it(seen, requester, agent):
    """Under steady load some write is always running: a rolled-back id is skipped as soon as every
    transaction that was running when the gap was first seen has ended, whatever began since."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: its gaps are always rollbacks")
    import psycopg

    ticket = make_ticket(requester)
    stream.pump_all()
    params = connection.get_connection_params()
    with psycopg.connect(**params) as old, psycopg.connect(**params) as new:
        _insert_event_elsewhere(old, ticket.pk)
        services.comment_on_ticket(ticket, by=agent, body="Je regarde.")
        later = TicketEvent.objects.latest("pk")
        assert stream.pump("probe") == 0  # the gap's transaction may still commit
        old.rollback()
        _insert_event_elsewhere(new, ticket.pk)  # a newer write, still running
        assert stream.pump("probe") == 1
        assert seen[-1] == later.pk
        new.rollback()
