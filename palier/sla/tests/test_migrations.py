"""The warnings and breaches recorded before they were ticket events move to the ticket history,
and the stream's consumers do not act on them again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from palier.people.models import User
from palier.sla.models import Clock, SlaEvent
from palier.tickets import stream
from palier.tickets.models import StreamCursor, Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

BEFORE = [("sla", "0003_policy_version")]
AFTER = [("sla", "0004_fired_in_ticket_history")]


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def _automation_state() -> Any:
    """The former reader's position row, as the schema before the move had it (the model is gone
    from the code since ``automation/0003``)."""
    executor = MigrationExecutor(connection)
    state = executor.loader.project_state([*BEFORE, ("automation", "0002_seed")])
    return state.apps.get_model("automation", "AutomationState")


@pytest.fixture
def before(requester: User) -> Iterator[Ticket]:
    """A ticket with its SLA clocks, opened by today's code on today's schema, then the schema as
    it was before the move (today's models may read columns the old schema lacks)."""
    ticket = make_ticket(requester, impact="high", urgency="high")
    _migrate(BEFORE)
    try:
        yield ticket
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _fired_rows(ticket: Ticket) -> tuple[SlaEvent, SlaEvent]:
    """A warning read by the former SLA reader and a breach it has not read yet."""
    clock = Clock.objects.filter(ticket=ticket).first()
    assert clock is not None
    at = timezone.now() - timedelta(hours=1)
    data = {"target": 60, "due": at.isoformat(), "at": at.isoformat(), "left": 0}
    warning = SlaEvent.objects.create(
        ticket=ticket, clock=clock, kind="warning", generation=1, data=data, created_at=at
    )
    breach = SlaEvent.objects.create(ticket=ticket, clock=clock, kind="breach", generation=1, data=data, created_at=at)
    _automation_state().objects.update_or_create(pk=1, defaults={"sla_position": warning.pk})
    return warning, breach


# each test migrates back and forth through every app (about 11 s): they run in the PostgreSQL
# pass only (conftest.py, ``engine_independent``), so once per CI
pytestmark = pytest.mark.engine_independent


@pytest.mark.django_db(transaction=True)
def test_fired_rows_become_ticket_events_that_consumers_do_not_replay(before: Ticket) -> None:
    warning, breach = _fired_rows(before)
    stream.ensure_cursors()
    stream.skip_to_end()  # every consumer has read the whole stream
    end = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first()

    _migrate(AFTER)

    assert not SlaEvent.objects.filter(kind__in=["warning", "breach"]).exists()
    copies = list(TicketEvent.objects.filter(kind__in=TicketEvent.SLA_KINDS).order_by("pk"))
    assert [(e.kind, e.is_internal, e.created_at) for e in copies] == [
        ("sla_warning", True, warning.created_at),
        ("sla_breach", True, breach.created_at),
    ]
    assert [e.key for e in copies] == [f"sla:{warning.clock_id}:warning:1", f"sla:{breach.clock_id}:breach:1"]
    assert copies[0].data == {**warning.data, "clock": warning.clock_id, "generation": 1, "handled": True}
    assert "handled" not in copies[1].data  # not read yet: automation reads it through the stream
    cursors = dict(StreamCursor.objects.values_list("name", "position"))
    assert cursors.pop("automation") == end
    assert set(cursors.values()) == {copies[-1].pk}  # the others skip the copies


@pytest.mark.django_db(transaction=True)
def test_when_everything_was_read_every_cursor_skips_the_copies(before: Ticket) -> None:
    _warning, breach = _fired_rows(before)
    _automation_state().objects.filter(pk=1).update(sla_position=breach.pk)
    stream.ensure_cursors()
    stream.skip_to_end()

    _migrate(AFTER)

    copies = TicketEvent.objects.filter(kind__in=TicketEvent.SLA_KINDS)
    assert copies.count() == 2 and all(e.data["handled"] for e in copies)
    last = copies.order_by("-pk").values_list("pk", flat=True).first()
    assert set(StreamCursor.objects.values_list("position", flat=True)) == {last}
    assert stream.pump_all() == 0


@pytest.mark.django_db(transaction=True)
def test_the_move_is_reversible(before: Ticket) -> None:
    warning, breach = _fired_rows(before)
    _migrate(AFTER)
    _migrate(BEFORE)
    rows = list(SlaEvent.objects.filter(kind__in=["warning", "breach"]).order_by("pk"))
    assert [(r.kind, r.clock_id, r.generation, r.data, r.created_at) for r in rows] == [
        (warning.kind, warning.clock_id, 1, warning.data, warning.created_at),
        (breach.kind, breach.clock_id, 1, breach.data, breach.created_at),
    ]
    assert not TicketEvent.objects.filter(kind__in=TicketEvent.SLA_KINDS).exists()
    assert _automation_state().objects.get(pk=1).sla_position == rows[-1].pk
