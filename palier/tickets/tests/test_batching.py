"""Group commit of creations: concurrent requests of one process share a transaction, each gets
its own ticket only once it is committed, and a bad ticket costs the others nothing
(real PostgreSQL connections and threads)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import IntegrityError, connection, connections

from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.services import batching

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent connections need PostgreSQL (SQLite test DB is in memory)"
    ),
]


@pytest.fixture
def writer(settings: Any) -> Iterator[None]:
    settings.PALIER_CREATE_BATCH = 8
    yield
    batching._writer.stop()


@pytest.fixture
def round_robin_triage(triage, agent):
    triage.assignment_strategy = "round_robin"
    triage.save()
    return triage


def _until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


class _Holder:
    """Another session holding the group row lock the writer needs, to line requests up."""

    def __init__(self, group_id: int) -> None:
        self.conn = psycopg.connect(**connection.get_connection_params())
        self.conn.execute("SELECT id FROM people_supportgroup WHERE id = %s FOR UPDATE", [group_id])

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def _start(results: dict[int, Any], i: int, make_item) -> threading.Thread:
    def run() -> None:
        try:
            results[i] = batching.open_ticket_batched(make_item(i))
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _line_up(round_robin_triage, make_item, count: int) -> dict[int, Any]:
    """One creation blocks the writer on the group lock; ``count - 1`` more queue behind it."""
    holder = _Holder(round_robin_triage.pk)
    results: dict[int, Any] = {}
    try:
        threads = [_start(results, 0, make_item)]
        _until(lambda: batching._writer.waiting() == 0 and batching._writer._thread is not None)
        time.sleep(0.2)  # the writer is now inside its transaction, waiting for the lock
        threads += [_start(results, i, make_item) for i in range(1, count)]
        _until(lambda: batching._writer.waiting() == count - 1)
        assert not results  # nothing answered before its commit
    finally:
        holder.release()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_waiting_creations_are_written_together_and_each_gets_its_own(writer, round_robin_triage, requester):
    def item(i: int):
        return tickets.prepare_ticket(requester=requester, by=requester, subject=f"Concurrent {i}")

    results = _line_up(round_robin_triage, item, 6)
    assert all(isinstance(r, Ticket) for r in results.values()), results
    assert {i: r.subject for i, r in results.items()} == {i: f"Concurrent {i}" for i in range(6)}
    saved = {t.pk: t for t in Ticket.objects.filter(subject__startswith="Concurrent ")}
    assert set(saved) == {r.pk for r in results.values()}
    assert len({t.number for t in saved.values()}) == 6
    # the five that queued behind the first share one transaction (one creation time)
    assert len({results[i].created_at for i in range(1, 6)}) == 1
    assert results[0].created_at != results[1].created_at
    assert TicketEvent.objects.filter(ticket_id__in=saved, kind=TicketEvent.Kind.CREATED).count() == 6
    assert all(t.assignee_id is not None for t in saved.values())


@pytest.mark.django_db(transaction=True)
def test_a_ticket_that_cannot_be_written_fails_alone(writer, round_robin_triage, requester):
    def item(i: int):
        prepared = tickets.prepare_ticket(requester=requester, by=requester, subject=f"Mixed {i}")
        if i == 3:
            prepared.ticket.requester_id = 987654  # deleted meanwhile: the foreign key refuses it at commit
        return prepared

    results = _line_up(round_robin_triage, item, 6)
    assert isinstance(results[3], IntegrityError)
    good = [i for i in range(6) if i != 3]
    assert all(isinstance(results[i], Ticket) for i in good), results
    assert sorted(Ticket.objects.filter(subject__startswith="Mixed ").values_list("subject", flat=True)) == sorted(
        f"Mixed {i}" for i in good
    )
    assert not Ticket.objects.filter(requester_id=987654).exists()


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_201_through_the_writer(writer, client, requester):
    from palier.people.services import create_api_token

    secret = create_api_token(requester, scope="write").secret
    response = client.post(
        "/api/v1/tickets",
        {"subject": "Through the writer", "impact": "medium", "urgency": "high"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["subject"] == "Through the writer" and body["tags"] == []
    assert Ticket.objects.get(pk=body["id"]).requester_id == requester.pk
    assert batching._writer._thread is not None  # it went through the writer thread


@pytest.mark.django_db(transaction=True)
def test_a_creation_the_writer_cannot_confirm_in_time_answers_503(
    writer, round_robin_triage, client, requester, monkeypatch
):
    """Behind a stuck database the API does not hang: it answers 503 with what to do, and the
    ticket it could not confirm is still written once the database frees up."""
    from palier.people.services import create_api_token

    monkeypatch.setattr(batching, "WAIT_SECONDS", 0.5)
    secret = create_api_token(requester, scope="write").secret
    holder = _Holder(round_robin_triage.pk)
    try:
        response = client.post(
            "/api/v1/tickets",
            {"subject": "Stuck database"},
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"},
        )
    finally:
        holder.release()
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert "Idempotency-Key" in response.json()["detail"]
    _until(lambda: Ticket.objects.filter(subject="Stuck database").exists())
