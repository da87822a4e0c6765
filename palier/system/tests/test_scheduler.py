"""The scheduler of periodic jobs: what it schedules, the pile-up guard on both queues, and
several schedulers (started by mistake, or one per machine) leaving one waiting run per job."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from palier.lib import schedule
from palier.system import scheduler
from palier.system.tests.tasks import record_run_task
from palier.tickets import services
from palier.tickets.models import Ticket
from palier.tickets.tasks import close_resolved_tickets_task
from palier.tickets.tests.builders import make_ticket
from testsupport.processes import (
    DATABASE_TASKS,
    RQ_TASKS,
    palier_env,
    redis_database,
    run_palier,
    run_workers,
    shared_database,
)

RECORD = schedule.Job("record", 60, record_run_task.enqueue)


def test_closing_resolved_tickets_is_a_registered_periodic_job() -> None:
    jobs = {job.name: job for job in schedule.jobs()}
    assert jobs["close-resolved-tickets"].seconds == 900
    assert scheduler.task_of(jobs["close-resolved-tickets"]) == close_resolved_tickets_task


def test_the_close_job_closes_resolved_tickets_whose_reopen_window_elapsed(requester, agent) -> None:
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=agent)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=30))
    job = next(job for job in schedule.jobs() if job.name == "close-resolved-tickets")
    assert scheduler.enqueue_unless_waiting(job)  # the immediate backend runs the task inside enqueue()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    assert ticket.events.filter(kind="status", data__new="closed", actor__isnull=True).exists()


def test_each_job_runs_at_start_then_on_its_interval_without_overlap() -> None:
    jobs = [schedule.Job("a", 30, lambda: None), schedule.Job("b", 900, lambda: None)]
    planned = scheduler.build_scheduler(jobs)
    by_id = {job.id: job for job in planned.get_jobs()}
    assert set(by_id) == {"a", "b"}
    assert by_id["a"].trigger.interval == timedelta(seconds=30)
    assert by_id["b"].trigger.interval == timedelta(seconds=900)
    for job in by_id.values():
        assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 30
        assert job.next_run_time <= timezone.now()  # first run right at start


def test_a_running_scheduler_enqueues_once_per_interval() -> None:
    fired: list[float] = []
    two = threading.Event()

    def enqueue() -> None:
        fired.append(time.monotonic())
        if len(fired) == 2:
            two.set()

    background = BackgroundScheduler(timezone=timezone.get_current_timezone())
    scheduler.add_jobs(background, [schedule.Job("tick", 1, enqueue)])
    background.start()
    try:
        assert two.wait(10)
    finally:
        background.shutdown()
    assert fired[1] - fired[0] >= 0.9  # the second run waited for the interval


@pytest.mark.django_db
def test_database_queue_a_run_still_waiting_is_not_enqueued_again(settings) -> None:
    settings.TASKS = DATABASE_TASKS
    assert scheduler.enqueue_unless_waiting(RECORD)
    assert not scheduler.enqueue_unless_waiting(RECORD)
    assert DBTaskResult.objects.count() == 1
    DBTaskResult.objects.update(status="RUNNING")  # a worker took it: the next run may wait
    assert scheduler.enqueue_unless_waiting(RECORD)
    assert DBTaskResult.objects.filter(status="READY").count() == 1


def test_redis_queue_a_run_still_waiting_is_not_enqueued_again(settings) -> None:
    import django_rq

    with redis_database(12) as url:
        settings.TASKS = RQ_TASKS
        settings.RQ_QUEUES = {"default": {"URL": url}}
        queue = django_rq.get_queue("default")
        queue.enqueue("palier.system.tests.tasks.runs_by_key", "/nonexistent")  # another task waits too
        assert scheduler.enqueue_unless_waiting(RECORD)
        assert not scheduler.enqueue_unless_waiting(RECORD)
        assert queue.count == 2
        queue.empty()
        assert scheduler.enqueue_unless_waiting(RECORD)
        assert queue.count == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_leave_one_waiting_run_per_job_which_a_worker_then_runs(settings, tmp_path: Path) -> None:
    settings.TASKS = DATABASE_TASKS
    jobs = schedule.jobs()
    with shared_database(tmp_path) as env:
        with run_palier(["scheduler"], 2, env=env) as schedulers:

            def both_fired() -> bool:
                decisions = [out.count("enqueued ") + out.count("skipped ") for out in schedulers.outputs()]
                return all(count >= len(jobs) for count in decisions)

            schedulers.wait_until(both_fired)
        assert schedulers.stop() == [0, 0]  # stopped cleanly by SIGTERM
        waiting = DBTaskResult.objects.filter(status="READY")
        paths = sorted(waiting.values_list("task_path", flat=True))
        assert paths == sorted(scheduler.task_of(job).module_path for job in jobs)  # type: ignore[union-attr]
        with run_workers(1, env=env, until=lambda: not waiting.exists()):
            pass
        assert DBTaskResult.objects.successful().count() == len(jobs)


def test_a_scheduler_on_each_of_three_machines_leaves_one_waiting_run_per_job_in_redis(
    settings, tmp_path: Path
) -> None:
    """Several machines: each runs its own scheduler against the shared Redis queue; the Redis lock
    around check-then-enqueue leaves one waiting run per job, whatever fires at once."""
    import django_rq

    jobs = schedule.jobs()
    with redis_database(12) as url:
        settings.TASKS, settings.RQ_QUEUES = RQ_TASKS, {"default": {"URL": url}}
        env = palier_env(
            REDIS_URL=url, PALIER_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}"
        )
        with run_palier(["scheduler"], 3, env=env) as schedulers:

            def all_fired() -> bool:
                decisions = [out.count("enqueued ") + out.count("skipped ") for out in schedulers.outputs()]
                return all(count >= len(jobs) for count in decisions)

            schedulers.wait_until(all_fired)
            enqueued, output = sum(out.count("enqueued ") for out in schedulers.outputs()), schedulers.output()
        assert enqueued == len(jobs), output
        queue = django_rq.get_queue("default")
        waiting = sorted(job.func_name for job in queue.get_jobs())
        assert waiting == sorted(scheduler.task_of(job).module_path for job in jobs)  # type: ignore[union-attr]
