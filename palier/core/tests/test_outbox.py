"""The outbox: work recorded with the commit that asked for it, retried with backoff until done,
never dropped; a runner killed mid-item leaves it to the next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from palier.core import outbox
from palier.core.models import OutboxItem

pytestmark = pytest.mark.django_db
S = OutboxItem.State


@dataclass
class Probe:
    """The handler of kind "probe": records each payload, raises the queued failures first."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)

    def __call__(self, payload: dict[str, Any]) -> None:
        self.seen.append(payload)
        if self.failures:
            raise self.failures.pop(0)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Probe:
    handler = Probe()
    monkeypatch.setattr(outbox, "_handlers", {"probe": handler})
    return handler


def test_an_item_is_retried_with_backoff_until_done_once(probe: Probe, django_capture_on_commit_callbacks) -> None:
    probe.failures += [ConnectionError("receiver down"), ConnectionError("still down")]
    with django_capture_on_commit_callbacks(execute=True):
        outbox.add("probe", key="k1", payload={"n": 1})
        outbox.add("probe", key="k1", payload={"n": 1})  # the same work asked twice: once
    item = OutboxItem.objects.get()
    assert (item.state, item.attempts, len(probe.seen)) == (S.PENDING, 1, 1)
    assert "receiver down" in item.last_error
    assert outbox.run_due() == 0  # not before its time
    first_delay = item.next_attempt_at - timezone.now()
    assert outbox.run_due(now=item.next_attempt_at) == 1
    item.refresh_from_db()
    assert item.state == S.PENDING and item.next_attempt_at - timezone.now() > first_delay
    outbox.run_due(now=item.next_attempt_at)
    item.refresh_from_db()
    assert (item.state, item.attempts, item.last_error, probe.seen) == (S.DONE, 3, "", [{"n": 1}] * 3)
    assert outbox.run_due(now=timezone.now() + timedelta(days=1)) == 0


def test_nothing_is_added_when_the_transaction_rolls_back(probe: Probe) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.add("probe", key="k2", payload={})
        raise RuntimeError("the change failed")
    assert not OutboxItem.objects.exists()


def test_an_item_whose_runner_died_is_run_again(probe: Probe) -> None:
    now = timezone.now()
    item = OutboxItem.objects.create(kind="probe", key="k3", state=S.RUNNING, claimed_at=now, attempts=1)
    assert outbox.run_due(now=now + timedelta(minutes=1)) == 0  # its worker may still be at it
    assert outbox.run_due(now=now + outbox.STALE + timedelta(seconds=1)) == 1  # it died
    item.refresh_from_db()
    assert (item.state, item.attempts, len(probe.seen)) == (S.DONE, 2, 1)


def test_hopeless_items_fail_visibly_and_an_admin_may_retry(probe: Probe) -> None:
    probe.failures += [ConnectionError("gone")]
    worn = OutboxItem.objects.create(kind="probe", key="k4", attempts=outbox.MAX_ATTEMPTS - 1)
    assert outbox.run(worn.pk) == S.FAILED
    probe.failures += [outbox.Permanent("HTTP 410")]
    assert outbox.run(OutboxItem.objects.create(kind="probe", key="k5").pk) == S.FAILED
    stray = OutboxItem.objects.create(kind="unknown", key="k6")
    assert outbox.run(stray.pk) == S.FAILED
    from palier.core.selectors import outbox_backlog

    assert [(i.key, i.state) for i in outbox_backlog()] == [("k4", S.FAILED), ("k5", S.FAILED), ("k6", S.FAILED)]
    assert "no handler" in outbox_backlog()[2].last_error
    outbox.retry(worn.pk)
    assert outbox.run(worn.pk) == S.DONE
