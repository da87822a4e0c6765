"""The outbox: work to do after a commit that must not be lost (a notification whose sending
failed, an automation webhook), knowing no domain.

``add(kind, key=, payload=)`` writes an ``OutboxItem`` in the caller's transaction, so the work
exists exactly when the change that asked for it committed, and asks a worker to run it after
commit. ``run(item_id)`` claims the item by a conditional UPDATE (one runner at a time), calls the
handler registered for its kind (``palier/events.py``, ``OUTBOX_HANDLERS``) with the payload, and
marks it done; a handler that raises leaves it waiting for its next attempt (10 s, 1 min, 5 min,
then doubling up to an hour), ``Permanent`` or ``MAX_ATTEMPTS`` failures mark it failed, kept and
shown to administrators. The ``outbox`` periodic job runs what is due, and what a worker claimed
and never finished (killed): handlers must be idempotent (at least once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from palier.core.models import OutboxItem

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
S = OutboxItem.State
DELAYS = (10, 60, 300)  # seconds before the 2nd, 3rd and 4th attempts; then doubling up to MAX_DELAY
MAX_DELAY = 3600
MAX_ATTEMPTS = 24  # about a day of attempts; then failed, kept and shown
STALE = timedelta(minutes=10)  # a claim older than this belonged to a worker that died
KEEP_DONE = timedelta(days=7)

_handlers: dict[str, Handler] = {}


class Permanent(Exception):
    """Raised by a handler when trying again cannot help (the item is marked failed)."""


def register(kind: str, handler: Handler) -> None:
    _handlers[kind] = handler


def kinds() -> list[str]:
    return sorted(_handlers)


def add(kind: str, *, key: str, payload: dict[str, Any], error: str = "") -> None:
    """Record work of ``kind`` in the current transaction (a second item with the same kind and key
    is not added) and have a worker run it after commit. ``error``: why it is here (a first
    attempt made elsewhere failed), shown to administrators."""
    try:
        with transaction.atomic():
            item = OutboxItem.objects.create(kind=kind, key=key[:200], payload=payload, last_error=error[:2000])
    except IntegrityError:
        return
    transaction.on_commit(lambda: _kick(item.pk), robust=True)


def _kick(item_id: int) -> None:
    from palier.core.tasks import run_outbox_item_task

    try:
        run_outbox_item_task.enqueue(item_id)
    except Exception:  # the queue is down: the periodic job runs it
        log.exception("could not queue outbox item %s", item_id)


def delay(attempts: int) -> int:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    if attempts <= len(DELAYS):
        return DELAYS[attempts - 1]
    return int(min(DELAYS[-1] * 2 ** min(attempts - len(DELAYS), 8), MAX_DELAY))


def _runnable(now: datetime) -> Q:
    return Q(state=S.PENDING, next_attempt_at__lte=now) | Q(state=S.RUNNING, claimed_at__lt=now - STALE)


def run(item_id: int, *, now: datetime | None = None) -> str:
    """One attempt at one item if it is due (or its runner died); returns its state afterwards."""
    now = now or timezone.now()
    claimed = (
        OutboxItem.objects.filter(_runnable(now), pk=item_id)
        .update(state=S.RUNNING, claimed_at=now, attempts=F("attempts") + 1)
    )  # fmt: skip
    item = OutboxItem.objects.filter(pk=item_id).first()
    if item is None or not claimed:
        return item.state if item else ""
    handler = _handlers.get(item.kind)
    try:
        if handler is None:
            raise Permanent(f"no handler for {item.kind}")
        handler(item.payload)
    except Exception as exc:
        return _failed(item, exc, now)
    OutboxItem.objects.filter(pk=item.pk, claimed_at=now).update(state=S.DONE, done_at=timezone.now(), last_error="")
    return S.DONE


def _failed(item: OutboxItem, exc: Exception, now: datetime) -> str:
    final = isinstance(exc, Permanent) or item.attempts >= MAX_ATTEMPTS
    error = f"{type(exc).__name__}: {exc}"[:2000]
    state = S.FAILED if final else S.PENDING
    log.warning("outbox %s %s attempt %d: %s%s", item.kind, item.key, item.attempts, error, " (gave up)" * final)
    OutboxItem.objects.filter(pk=item.pk, claimed_at=now).update(
        state=state, last_error=error, next_attempt_at=now + timedelta(seconds=delay(item.attempts))
    )
    return state


def run_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The periodic job: run the items that are due or whose runner died; forget old done ones.
    Returns how many were attempted."""
    now = now or timezone.now()
    ids = list(
        OutboxItem.objects.filter(_runnable(now)).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )
    for item_id in ids:
        run(item_id, now=now)
    OutboxItem.objects.filter(state=S.DONE, done_at__lt=now - KEEP_DONE).delete()
    return len(ids)


def retry(item_id: int) -> None:
    """Make a failed item due again (an administrator fixed the cause)."""
    OutboxItem.objects.filter(pk=item_id, state=S.FAILED).update(
        state=S.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
