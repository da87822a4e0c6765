"""The registry of periodic jobs. The jobs are listed in ``palier/events.py`` (``PERIODIC_JOBS``),
whose ``wire()`` registers each one::

    schedule.register("sla-sweep", seconds=30, enqueue=sla_sweep_task.enqueue)

The scheduler (``palier scheduler``, also started by ``palier up``) enqueues each job on its
interval; workers run them. Every job must be idempotent: two schedulers started by mistake, a
retried job or a job that runs late must do no harm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    name: str
    seconds: int
    enqueue: Callable[[], Any]


_jobs: dict[str, Job] = {}


def register(name: str, *, seconds: int, enqueue: Callable[[], Any]) -> None:
    """Declare a periodic job (registering the same name again replaces it)."""
    if seconds <= 0:
        raise ValueError("a periodic job needs a positive interval")
    _jobs[name] = Job(name, seconds, enqueue)


def jobs() -> list[Job]:
    return sorted(_jobs.values(), key=lambda job: job.name)
