"""The demo's bulk-loaded history is marked as handled: the event stream's consumers never get it."""

from __future__ import annotations

import pytest

from palier.tickets import stream


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A consumer named "probe" (the only one) that remembers the ids it was handed."""
    got: list[int] = []
    monkeypatch.setattr(stream, "_handlers", {})
    stream.subscribe("probe", lambda events: got.extend(e.pk for e in events))
    return got


def test_demo_history_is_not_delivered(seen, db):
    from palier.demo.tickets import run_demo

    run_demo(tickets=5, seed=3)
    assert stream.pump_all() == 0
    assert seen == []
