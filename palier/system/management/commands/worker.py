"""``palier worker``: run queued background tasks. Start as many as you like, on any machine."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand


class Command(BaseCommand):
    # no system checks at start: they import every URL and view (seconds), which a worker never uses
    requires_system_checks: list[str] = []
    help = "Run a background worker: take tasks from the queue (database or Redis) and run them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Process the queue once, then exit.")
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between two looks at an empty database queue (Redis workers are woken at once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Each task is claimed by exactly one worker: a row lock (database) or an atomic pop (Redis).
        verbosity = options["verbosity"]
        if getattr(settings, "REDIS_URL", ""):
            # job_class: django-tasks' RQ jobs (runs the Task, records its result);
            # with_scheduler: moves deferred tasks to the queue when due (one worker holds the lock)
            call_command(
                "rqworker",
                "default",
                burst=options["batch"],
                job_class="palier.lib.taskcontext_rq.Job",
                with_scheduler=True,
                verbosity=verbosity,
            )
        else:
            call_command(_DbWorker(), batch=options["batch"], interval=options["interval"], verbosity=verbosity)


class _DbWorker(DbWorkerCommand):
    """django-tasks-db's worker, logging task runs at ``PALIER_TASK_LOG_LEVEL`` (it would log two
    lines per task at the default verbosity); ``-v 2`` still shows everything."""

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        if verbosity < 2:
            logging.getLogger("django_tasks").setLevel(settings.PALIER_TASK_LOG_LEVEL)
