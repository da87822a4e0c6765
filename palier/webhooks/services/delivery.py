"""Deliveries: the events handed over to the subscriptions that asked for them, and their posting.

**Hand-over, exactly once.** Ticket events arrive through the ``webhooks`` consumer of the ticket
event stream (``consume``, after commit, at least once); problem and change events through the
history hooks (``problem_event_recorded``, ``change_event_recorded``), in the recording
transaction. Each writes one ``Delivery`` per interested active subscription, its JSON body fixed
then; the unique (subscription, event) pair makes a second hand-over of the same event (a stream
batch run again after a crash) add nothing.

**Posting, at least once, never lost.** The ``Delivery`` table is this app's outbox: a delivery is
claimed by a conditional UPDATE (a claim token, rows locked with SKIP LOCKED on PostgreSQL) in
batches, posted with ``integrations.outbound.post_body`` (the address checked again at each
attempt, the connection made to a checked address, no redirect), and the outcome of every attempt
logged (``Attempt``). A 2xx answer delivers it; anything else is retried with the outbox's backoff
(10 s, 1 min, 5 min, then doubling up to an hour) for ``MAX_ATTEMPTS`` attempts; an address now
refused fails it at once. A claim older than ``STALE`` belonged to a worker that died and is taken
again. ``kick`` queues ``deliver_due_task`` after the commit that added deliveries; the
``webhooks`` periodic job catches up after a queue outage, runs the retries and prunes old rows.

**Disabling.** Each subscription counts its failed attempts in a row; at
``PALIER_WEBHOOKS_DISABLE_AFTER`` failures spanning ``PALIER_WEBHOOKS_DISABLE_HOURS`` it is turned
off (its deliveries wait) and every administrator gets one email.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from palier.changes.models import ChangeEvent
from palier.core.outbox import delay
from palier.integrations import outbound
from palier.mail import secrets
from palier.problems.models import ProblemEvent
from palier.tickets.models import Ticket, TicketEvent

from .. import kinds, payloads
from ..models import Attempt, Delivery, Subscription

log = logging.getLogger(__name__)

D = Delivery.State
MAX_ATTEMPTS = 16  # 10 s, 1 min, 5 min, 10 min, 20 min, 40 min, then hourly: about ten hours
STALE = timedelta(minutes=10)
BATCH = 50
KEEP = timedelta(days=30)  # delivered and failed deliveries are kept this long for the log

SIGNATURE_HEADER = "X-Palier-Signature"
HEADERS_VERSION = "X-Palier-Webhook-Version"


# --- hand-over ------------------------------------------------------------------------------------


def _subscribers(event_type: str, active: Iterable[Subscription]) -> list[Subscription]:
    return [s for s in active if event_type in s.event_types]


def _write(rows: list[Delivery]) -> None:
    if rows:
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        kick()


def _active() -> list[Subscription]:
    return list(Subscription.objects.filter(is_active=True).only("pk", "event_types"))


def _delivery(subscription: Subscription, key: str, event_type: str, **body: Any) -> Delivery:
    delivery_id = uuid.uuid4()
    text = payloads.envelope(delivery_id=str(delivery_id), type=event_type, **body)
    return Delivery(
        subscription_id=subscription.pk, delivery_id=delivery_id, event_key=key, event_type=event_type, body=text
    )


def consume(events: list[TicketEvent]) -> None:
    """The ``webhooks`` consumer of the ticket event stream: one delivery per event and interested
    subscription (a batch handed over again adds nothing)."""
    active = _active()
    if not active:
        return
    wanted: list[tuple[TicketEvent, str, list[Subscription]]] = []
    for event in events:
        event_type = kinds.ticket_type(event.kind, event.data or {})
        if event_type is None:
            continue
        subscribers = _subscribers(event_type, active)
        if subscribers:
            wanted.append((event, event_type, subscribers))
    if not wanted:
        return
    tickets = Ticket.objects.select_related("group", "assignee", "requester").in_bulk(
        {event.ticket_id for event, _, _ in wanted}
    )
    rows = []
    for event, event_type, subscribers in wanted:
        ticket = tickets.get(event.ticket_id)
        if ticket is None:
            continue
        try:
            data = payloads.ticket_data(ticket, event)
        except Exception:  # one event that cannot be described must not hold the stream back
            log.exception("webhooks: no payload for ticket event %s", event.pk)
            continue
        for subscription in subscribers:
            rows.append(
                _delivery(
                    subscription, f"ticket:{event.pk}", event_type, at=event.created_at, actor=event.actor, data=data
                )
            )
    with transaction.atomic():
        _write(rows)


def problem_event_recorded(event: ProblemEvent) -> None:
    """``PROBLEM_EVENT_RECORDED``: in the recording transaction, so the deliveries exist exactly
    when the event does (in a savepoint: a failure here is logged and never fails the problem's
    change)."""
    _history_event(
        event, kinds.problem_type(event.kind), "problem", lambda: payloads.problem_data(event.problem, event)
    )


def change_event_recorded(event: ChangeEvent) -> None:
    """``CHANGE_EVENT_RECORDED``: as for problems."""
    _history_event(event, kinds.change_type(event.kind), "change", lambda: payloads.change_data(event.change, event))


def _history_event(event: ProblemEvent | ChangeEvent, event_type: str, subject: str, data: Any) -> None:
    try:
        subscribers = _subscribers(event_type, _active())  # one query when nobody listens
        if not subscribers:
            return
        with transaction.atomic():
            body = data()
            key = f"{subject}:{event.pk}"
            _write([_delivery(s, key, event_type, at=event.at, actor=event.actor, data=body) for s in subscribers])
    except Exception:
        log.exception("webhooks: %s event %s not handed over", subject, event.pk)


def kick() -> None:
    """Queue a ``deliver_due_task`` once the current transaction commits (a task that finds the
    work done by another returns at once)."""
    transaction.on_commit(_enqueue, robust=True)


def _enqueue() -> None:
    from palier.webhooks.tasks import deliver_due_task

    try:
        deliver_due_task.enqueue()
    except Exception:  # the queue is down: the periodic job delivers
        log.exception("could not queue the webhook deliveries")


# --- posting ----------------------------------------------------------------------------------------


def _runnable(now: datetime) -> Q:
    return Q(state=D.PENDING, next_attempt_at__lte=now) | Q(state=D.RUNNING, claimed_at__lt=now - STALE)


def claim(*, now: datetime, limit: int = BATCH) -> list[Delivery]:
    """Up to ``limit`` due deliveries of active subscriptions, now this runner's (attempts counted)."""
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(_runnable(now), subscription__is_active=True)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Delivery.objects.filter(_runnable(now), pk__in=ids).update(
            state=D.RUNNING, claim=token, claimed_at=now, attempts=F("attempts") + 1
        )
    return list(Delivery.objects.filter(claim=token).select_related("subscription").order_by("pk"))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>`` (docs/webhooks.md)."""
    return f"t={timestamp},v1=" + outbound.hmac_sha256(secret, str(timestamp).encode() + b"." + body)


def headers(delivery: Delivery, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "X-Palier-Timestamp": str(timestamp),
        "X-Palier-Delivery": str(delivery.delivery_id),
        "X-Palier-Event": delivery.event_type,
        HEADERS_VERSION: str(kinds.VERSION),
    }


def _post(delivery: Delivery, secret: str) -> tuple[int | None, str, bool]:
    """One POST: (status or None, error, retry?)."""
    body = delivery.body.encode("utf-8")
    try:
        response = outbound.post_body(
            delivery.subscription.url,
            body,
            headers(delivery, secret, int(time.time()), body),
            allow_http=settings.PALIER_WEBHOOKS_ALLOW_HTTP,
            allow_private=settings.PALIER_WEBHOOKS_ALLOW_PRIVATE,
        )
    except outbound.DeliveryError as exc:
        return None, str(exc)[:500], exc.retryable
    if 200 <= response.status < 300:
        return response.status, "", False
    return response.status, f"HTTP {response.status}: {response.excerpt[:200]}", True


def attempt_batch(batch: list[Delivery], *, now: datetime) -> dict[str, int]:
    """Post each claimed delivery once and record the outcomes (a few statements per batch)."""
    keys: dict[int, str] = {}
    attempts: list[Attempt] = []
    delivered: list[int] = []
    failures: dict[int, list[bool]] = defaultdict(list)  # subscription -> outcomes in order
    outcome = {"delivered": 0, "retry": 0, "failed": 0}
    for delivery in batch:
        sub = delivery.subscription
        started = time.monotonic()
        try:
            secret = keys.get(sub.pk) or secrets.decrypt(sub.secret_encrypted)
            keys[sub.pk] = secret
        except secrets.SecretError:
            status, error, retry = None, "the signing secret cannot be read (SECRET_KEY changed?)", True
        else:
            status, error, retry = _post(delivery, secret)
        attempts.append(
            Attempt(
                delivery=delivery,
                at=timezone.now(),
                status_code=status,
                duration_ms=int((time.monotonic() - started) * 1000),
                error=error,
            )
        )
        ok = not error
        failures[sub.pk].append(ok)
        if ok:
            delivered.append(delivery.pk)
            outcome["delivered"] += 1
            continue
        final = not retry or delivery.attempts >= MAX_ATTEMPTS
        outcome["failed" if final else "retry"] += 1
        Delivery.objects.filter(pk=delivery.pk, claim=delivery.claim).update(
            state=D.FAILED if final else D.PENDING,
            last_status=status,
            last_error=error,
            next_attempt_at=now + timedelta(seconds=delay(delivery.attempts)),
        )
    Attempt.objects.bulk_create(attempts)
    if delivered:
        _mark_delivered(attempts, set(delivered))
    _count_failures(failures, now=now)
    return outcome


def _mark_delivered(attempts: list[Attempt], done: set[int]) -> None:
    """The delivered rows, grouped by their answer's status (usually one UPDATE: all 200)."""
    by_status: dict[int | None, list[int]] = defaultdict(list)
    for attempt in attempts:
        if attempt.delivery.pk in done:
            by_status[attempt.status_code].append(attempt.delivery.pk)
    moment = timezone.now()
    for status, ids in by_status.items():
        Delivery.objects.filter(pk__in=ids).update(
            state=D.DELIVERED, delivered_at=moment, last_status=status, last_error=""
        )


def _count_failures(outcomes: dict[int, list[bool]], *, now: datetime) -> None:
    for subscription_id, results in outcomes.items():
        if all(results):
            Subscription.objects.filter(pk=subscription_id, consecutive_failures__gt=0).update(
                consecutive_failures=0, failing_since=None
            )
            continue
        if True in results:
            last_ok = len(results) - 1 - results[::-1].index(True)
            streak = len(results) - last_ok - 1
            Subscription.objects.filter(pk=subscription_id).update(
                consecutive_failures=streak, failing_since=now if streak else None
            )
        else:
            Subscription.objects.filter(pk=subscription_id).update(
                consecutive_failures=F("consecutive_failures") + len(results),
                failing_since=Coalesce(F("failing_since"), now),
            )
        _maybe_disable(subscription_id, now=now)


def _maybe_disable(subscription_id: int, *, now: datetime) -> None:
    limit = settings.PALIER_WEBHOOKS_DISABLE_AFTER
    since = now - timedelta(hours=settings.PALIER_WEBHOOKS_DISABLE_HOURS)
    with transaction.atomic():
        turned_off = Subscription.objects.filter(
            pk=subscription_id, is_active=True, consecutive_failures__gte=limit, failing_since__lte=since
        ).update(is_active=False, disabled_reason="failures", disabled_at=now, version=F("version") + 1)
        if turned_off:
            from palier.webhooks.alerts import subscription_disabled

            subscription_disabled(Subscription.objects.get(pk=subscription_id))


def run_due(*, now: datetime | None = None, budget: float = 50.0) -> dict[str, int]:
    """Claim and post due deliveries batch after batch until none is due or ``budget`` seconds
    passed. Returns the counts of outcomes."""
    started = time.monotonic()
    totals = {"delivered": 0, "retry": 0, "failed": 0}
    while time.monotonic() - started < budget:
        moment = now or timezone.now()
        batch = claim(now=moment)
        if not batch:
            break
        for name, count in attempt_batch(batch, now=moment).items():
            totals[name] += count
        if now is not None and len(batch) < BATCH:
            break
    return totals


def prune(*, now: datetime | None = None) -> int:
    """Forget delivered and failed deliveries older than ``KEEP`` (their attempts go with them)."""
    now = now or timezone.now()
    old = Delivery.objects.filter(state__in=(D.DELIVERED, D.FAILED), created_at__lt=now - KEEP)
    return int(old.delete()[0])


@transaction.atomic
def redeliver(delivery: Delivery, *, by: Any) -> Delivery:
    """An administrator sends a delivery again (same delivery id and body, signed anew): due now,
    with a fresh set of attempts."""
    from palier.audit import services as audit
    from palier.webhooks import permissions

    permissions.require(by)
    Delivery.objects.filter(pk=delivery.pk).exclude(state=D.RUNNING).update(
        state=D.PENDING, attempts=0, next_attempt_at=timezone.now(), claim=None
    )
    audit.record(
        "webhooks.redelivered",
        actor=by,
        target=delivery.subscription,
        target_label=delivery.subscription.name,
        changes={"delivery": str(delivery.delivery_id)},
    )
    kick()
    delivery.refresh_from_db()
    return delivery
