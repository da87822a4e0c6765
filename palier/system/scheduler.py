"""The one scheduler of periodic jobs (``palier scheduler``, also started by ``palier up``).

It only enqueues: workers run the tasks. Each job of :mod:`palier.lib.schedule` becomes an
APScheduler interval job that runs right at start, then every ``seconds``. A run that is still
waiting in the queue (not started) is not enqueued again, so a slow or stopped worker pool does
not pile up copies, and a second scheduler started by mistake only finds the job already waiting.
The check and the enqueue happen under a lock (the database's write lock, a PostgreSQL advisory
lock or a Redis lock), so two schedulers firing at the same instant still leave one waiting run.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from django.db import close_old_connections, router, transaction
from django.db import connections as db_connections
from django.utils import timezone
from django_tasks.base import Task, TaskResultStatus

from palier.lib import schedule

logger = logging.getLogger("palier.scheduler")


def task_of(job: schedule.Job) -> Task[Any, Any] | None:
    """The task behind a job registered as ``enqueue=some_task.enqueue`` (None otherwise)."""
    owner = getattr(job.enqueue, "__self__", None)
    return owner if isinstance(owner, Task) else None


def is_waiting(task: Task[Any, Any]) -> bool:
    """Whether a run of ``task`` sits in its queue, not started yet."""
    from django_tasks_db.backend import DatabaseBackend

    backend = task.get_backend()
    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.filter(
            status=TaskResultStatus.READY,
            task_path=task.module_path,
            queue_name=task.queue_name,
            backend_name=backend.alias,
        ).exists()
    if _is_rq(backend):
        import django_rq
        from rq.job import Job as RQJob

        queue = django_rq.get_queue(task.queue_name)
        waiting = RQJob.fetch_many(queue.get_job_ids(), connection=queue.connection)
        return any(job is not None and job.func_name == task.module_path for job in waiting)
    return False  # the immediate backend (tests) runs the task inside enqueue()


def _is_rq(backend: object) -> bool:
    try:
        from django_tasks_rq.backend import RQBackend
    except ImportError:  # pragma: no cover - installed with Palier
        return False
    return isinstance(backend, RQBackend)


@contextlib.contextmanager
def _exclusive(task: Task[Any, Any], name: str) -> Iterator[None]:
    """Serialise check-then-enqueue of one job across schedulers."""
    backend = task.get_backend()
    if _is_rq(backend):
        import django_rq

        with django_rq.get_queue(task.queue_name).connection.lock(
            f"palier:scheduler:{name}", timeout=60, blocking_timeout=30
        ):
            yield
        return
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(backend, DatabaseBackend):  # the immediate backend of the tests
        yield
        return
    alias = router.db_for_write(DBTaskResult)
    with transaction.atomic(using=alias):  # SQLite: IMMEDIATE, the write lock is held from here
        connection = db_connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"palier:{name}".encode())])
        yield


def enqueue_unless_waiting(job: schedule.Job) -> bool:
    """Enqueue ``job`` unless its previous run is still waiting; True when it was enqueued."""
    task = task_of(job)
    if task is None:
        job.enqueue()
        return True
    with _exclusive(task, job.name):
        if is_waiting(task):
            return False
        job.enqueue()
        return True


def run_job(job: schedule.Job) -> None:
    """One firing of a periodic job: log the outcome, never raise (the next firing retries)."""
    close_old_connections()
    try:
        if enqueue_unless_waiting(job):
            logger.info("enqueued %s", job.name)
        else:
            logger.info("skipped %s: the previous run is still waiting in the queue", job.name)
    except Exception:
        logger.exception("could not enqueue %s", job.name)
    finally:
        close_old_connections()


def add_jobs(scheduler: BaseScheduler, jobs: list[schedule.Job], *, start: datetime | None = None) -> None:
    """One interval job per periodic job, first run at ``start`` (now by default)."""
    first = start or timezone.now()
    for job in jobs:
        scheduler.add_job(
            run_job,
            "interval",
            args=[job],
            id=job.name,
            name=job.name,
            seconds=job.seconds,
            next_run_time=first,
            coalesce=True,  # runs missed while the machine slept collapse into one
            max_instances=1,
            misfire_grace_time=max(job.seconds, 30),  # late by less than an interval: still run
            replace_existing=True,
        )


def build_scheduler(jobs: list[schedule.Job] | None = None) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=timezone.get_current_timezone())
    add_jobs(scheduler, schedule.jobs() if jobs is None else jobs)
    return scheduler
