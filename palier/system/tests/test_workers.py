"""Several `palier worker` processes at once, on the database queue and on Redis: every task
runs exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from palier.system.tests.tasks import record_run_task, runs_by_key
from testsupport.processes import (
    DATABASE_TASKS,
    RQ_TASKS,
    palier_env,
    redis_database,
    run_workers,
    shared_database,
)

TASKS = 30


@pytest.mark.django_db(transaction=True)
def test_three_database_workers_run_each_task_exactly_once(settings, tmp_path: Path) -> None:
    settings.TASKS = DATABASE_TASKS
    runs = tmp_path / "runs"
    runs.mkdir()
    with shared_database(tmp_path) as env:
        for i in range(TASKS):
            record_run_task.enqueue(f"task{i}")

        def all_done() -> bool:
            return DBTaskResult.objects.successful().count() == TASKS

        with run_workers(3, env={**env, "PALIER_TEST_RUNS_DIR": str(runs)}, until=all_done) as workers:
            pass
        assert not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists(), workers.output()
        assert all(len(result.worker_ids) == 1 for result in DBTaskResult.objects.all())
    assert runs_by_key(runs) == {f"task{i}": 1 for i in range(TASKS)}


def test_three_redis_workers_run_each_task_exactly_once(settings, tmp_path: Path) -> None:
    import django_rq

    runs = tmp_path / "runs"
    runs.mkdir()
    with redis_database(11) as url:
        settings.TASKS = RQ_TASKS
        settings.RQ_QUEUES = {"default": {"URL": url}}
        for i in range(TASKS):
            record_run_task.enqueue(f"task{i}")
        queue = django_rq.get_queue("default")
        assert queue.count == TASKS

        def all_done() -> bool:
            return (
                sum(runs_by_key(runs).values()) >= TASKS and queue.count == 0 and queue.started_job_registry.count == 0
            )

        env = palier_env(
            REDIS_URL=url,
            PALIER_TEST_RUNS_DIR=str(runs),
            PALIER_DATA_DIR=str(tmp_path),
            DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        )
        with run_workers(3, env=env, until=all_done) as workers:
            pass
        assert queue.finished_job_registry.count == TASKS, workers.output()
        assert queue.failed_job_registry.count == 0
    assert runs_by_key(runs) == {f"task{i}": 1 for i in range(TASKS)}
