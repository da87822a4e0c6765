"""The gauges a scrape reads from the database (and from Redis when it holds the queue).

Every process sees the same figures, so they are computed at scrape time rather than counted:
one indexed query per family, eight in all (``test_metrics`` holds the number).

| family | query |
|---|---|
| task queue depth and oldest waiting task | waiting rows grouped by queue (the partial index of waiting tasks); Redis: the queue's length and its first job |
| tickets created / resolved in the last hour by channel | ``ticket_created`` and ``ticket_resolved`` index ranges |
| mailboxes | the mailbox rows (few) |
| SLA sweep lag | the oldest due ``next_event_at`` (partial index ``sla_clock_due``) |
| event stream lag | each cursor with the first event after it (primary key) and the newest event |
| outbox | unsent emails (index ``outgoing_due``) |
| last backup | the newest ``BackupRecord`` (index on ``finished_at``) |
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from palier.backups.checks import MAX_AGE
from palier.backups.models import BackupRecord
from palier.mail.models import Mailbox
from palier.notifications.models import OutgoingEmail
from palier.sla.models import Clock
from palier.tickets.models import StreamCursor, Ticket, TicketEvent

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)  # tickets created and resolved "in the last hour"


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0


def queue_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    depth = GaugeMetricFamily("palier_task_queue_depth", "Tasks waiting in the queue.", labels=["queue"])
    oldest = GaugeMetricFamily(
        "palier_task_queue_oldest_seconds", "Age of the oldest task waiting in the queue.", labels=["queue"]
    )
    for queue, count, enqueued_at in _waiting_tasks():
        depth.add_metric([queue], count)
        oldest.add_metric([queue], _age(now, enqueued_at))
    yield depth
    yield oldest


def _queue_names() -> list[str]:
    return list(settings.TASKS.get("default", {}).get("QUEUES", ["default"]))


def _waiting_tasks() -> list[tuple[str, int, datetime | None]]:
    """``(queue, waiting tasks, enqueued time of the oldest)`` for each queue."""
    if settings.REDIS_URL:
        return _redis_waiting()
    from django_tasks_db.models import DBTaskResult

    rows = {
        row["queue_name"]: (row["n"], row["oldest"])
        for row in DBTaskResult.objects.filter(status="READY")
        .order_by()
        .values("queue_name")
        .annotate(n=Count("id"), oldest=Min("enqueued_at"))
    }
    names = sorted({*_queue_names(), *rows})
    return [(name, *rows.get(name, (0, None))) for name in names]


def _redis_waiting() -> list[tuple[str, int, datetime | None]]:
    import django_rq

    found = []
    for name in _queue_names():
        queue = django_rq.get_queue(name)
        first = queue.get_job_ids(0, 1)  # the head of the list: the oldest (but for urgent tasks put first)
        job = queue.fetch_job(first[0]) if first else None
        enqueued = job.enqueued_at if job is not None else None
        if enqueued is not None and enqueued.tzinfo is None:
            enqueued = enqueued.replace(tzinfo=UTC)
        found.append((name, queue.count, enqueued))
    return found


def ticket_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    since = now - WINDOW
    created = GaugeMetricFamily(
        "palier_tickets_created_last_hour", "Tickets opened in the last hour, by channel.", labels=["channel"]
    )
    resolved = GaugeMetricFamily(
        "palier_tickets_resolved_last_hour",
        "Tickets resolved in the last hour (still resolved or closed since), by channel.",
        labels=["channel"],
    )
    opened = dict(
        Ticket.objects.filter(created_at__gte=since).order_by().values_list("channel").annotate(n=Count("id"))
    )
    done = dict(
        Ticket.objects.filter(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED], resolved_at__gte=since)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
    )
    for channel in Ticket.Channel.values:
        created.add_metric([channel], opened.get(channel, 0))
        resolved.add_metric([channel], done.get(channel, 0))
    yield created
    yield resolved


def mailbox_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    failures = GaugeMetricFamily(
        "palier_mailbox_consecutive_failures", "Failed polls in a row of each active mailbox.", labels=["mailbox"]
    )
    since = GaugeMetricFamily(
        "palier_mailbox_last_success_age_seconds",
        "Seconds since each active mailbox was last polled successfully (-1: never).",
        labels=["mailbox"],
    )
    for name, last_success, failed in Mailbox.objects.filter(is_active=True).values_list(
        "name", "last_success_at", "consecutive_failures"
    ):
        failures.add_metric([name], failed)
        since.add_metric([name], _age(now, last_success) if last_success else -1)
    yield failures
    yield since


def sla_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    oldest_due = Clock.objects.filter(next_event_at__isnull=False).aggregate(at=Min("next_event_at"))["at"]
    lag = _age(now, oldest_due) if oldest_due is not None and oldest_due <= now else 0.0
    yield GaugeMetricFamily(
        "palier_sla_sweep_lag_seconds",
        "How long the oldest SLA warning or breach due has been waiting for the sweep (0: none overdue).",
        value=lag,
    )


def stream_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    lag = GaugeMetricFamily(
        "palier_event_stream_lag_seconds",
        "Age of the oldest ticket event a consumer has not handled yet (0: up to date).",
        labels=["consumer"],
    )
    behind = GaugeMetricFamily(
        "palier_event_stream_behind_events",
        "Ticket event ids between a consumer's cursor and the newest event.",
        labels=["consumer"],
    )
    first_after = TicketEvent.objects.filter(id__gt=OuterRef("position")).order_by("id").values("created_at")[:1]
    newest = TicketEvent.objects.order_by("-id").values("id")[:1]
    for name, position, oldest, head in (
        StreamCursor.objects.annotate(oldest=Subquery(first_after), head=Subquery(newest))
        .order_by("name")
        .values_list("name", "position", "oldest", "head")
    ):
        lag.add_metric([name], _age(now, oldest))
        behind.add_metric([name], max(0, (head or 0) - position))
    yield lag
    yield behind


def outbox_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    unsent = [OutgoingEmail.State.QUEUED, OutgoingEmail.State.SENDING]
    row: dict[str, Any] = OutgoingEmail.objects.filter(state__in=[*unsent, OutgoingEmail.State.FAILED]).aggregate(
        waiting=Count("id", filter=Q(state__in=unsent)),
        failed=Count("id", filter=Q(state=OutgoingEmail.State.FAILED)),
        oldest=Min("created_at", filter=Q(state__in=unsent)),
    )
    yield GaugeMetricFamily(
        "palier_outbox_unsent", "Emails waiting to be sent (queued or sending).", value=row["waiting"]
    )
    yield GaugeMetricFamily("palier_outbox_failed", "Emails given up after their retries.", value=row["failed"])
    yield GaugeMetricFamily(
        "palier_outbox_oldest_unsent_seconds", "Age of the oldest email not sent yet.", value=_age(now, row["oldest"])
    )


def backup_gauges(now: datetime) -> Iterator[GaugeMetricFamily]:
    last = BackupRecord.objects.aggregate(at=Max("finished_at"))["at"]
    yield GaugeMetricFamily(
        "palier_backup_last_success_age_seconds",
        "Seconds since the last successful backup (-1: never).",
        value=_age(now, last) if last else -1,
    )
    yield GaugeMetricFamily(
        "palier_backup_stale",
        "1 when no backup succeeded in the last 24 hours (the administrators' warning), else 0.",
        value=1 if last is None or now - last > MAX_AGE else 0,
    )


FAMILIES = (queue_gauges, ticket_gauges, mailbox_gauges, sla_gauges, stream_gauges, outbox_gauges, backup_gauges)


class DatabaseCollector(Collector):
    """The gauges above, read when Prometheus scrapes. A family that fails is left out and logged,
    and ``palier_scrape_errors`` says how many did, so one broken read never hides the rest."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        errors = 0
        for family in FAMILIES:
            try:
                yield from list(family(now))
            except Exception:
                logger.exception("metrics: %s failed", family.__name__)
                errors += 1
        yield GaugeMetricFamily("palier_scrape_errors", "Metric families that failed in this scrape.", value=errors)
