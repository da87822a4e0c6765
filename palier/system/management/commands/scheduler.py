"""``palier scheduler``: enqueue the periodic jobs on their intervals. Run exactly one."""

from __future__ import annotations

import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand

from palier.lib import schedule
from palier.system.scheduler import build_scheduler


class Command(BaseCommand):
    # no system checks at start: they import every URL and view (seconds), which a worker never uses
    requires_system_checks: list[str] = []
    help = "Enqueue the periodic jobs (SLA sweep, closing resolved tickets…) for the workers to run."

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        logging.getLogger("palier.scheduler").setLevel(logging.INFO if verbosity >= 1 else logging.WARNING)
        logging.getLogger("apscheduler").setLevel(logging.INFO if verbosity >= 2 else logging.WARNING)
        scheduler = build_scheduler()

        def stop(_signum: int, _frame: Any) -> None:
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if verbosity >= 1:
            names = ", ".join(f"{job.name} every {job.seconds} s" for job in schedule.jobs())
            self.stdout.write(f"Scheduler running: {names or 'no periodic jobs'}")
        scheduler.start()
