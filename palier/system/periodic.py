"""Periodic jobs the worker enqueues. Each task is idempotent, so two workers enqueueing the
same job at the same time do no harm."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("palier.worker")


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: int
    enqueue: Callable[[], Any]


def jobs() -> list[Job]:
    from palier.tickets.tasks import close_resolved_tickets_task

    return [Job("close-resolved-tickets", 900, close_resolved_tickets_task.enqueue)]


def run_scheduler(stop: threading.Event, *, tick: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
    """Enqueue each job when it is due, until ``stop`` is set. Jobs run once at start-up."""
    due = {job.name: 0.0 for job in jobs()}
    while not stop.is_set():
        now = clock()
        for job in jobs():
            if now >= due[job.name]:
                try:
                    job.enqueue()
                except Exception:  # keep the scheduler alive; the next tick retries
                    logger.exception("could not enqueue %s", job.name)
                    continue
                due[job.name] = now + job.every_seconds
        stop.wait(tick)
