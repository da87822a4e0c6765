"""``palier worker``: run background tasks and enqueue periodic jobs."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from palier.system.periodic import run_scheduler


class Command(BaseCommand):
    help = "Run the background worker (task queue and periodic jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-periodic", action="store_true", help="Do not enqueue periodic jobs.")
        parser.add_argument("--batch", action="store_true", help="Process the queue once, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["no_periodic"]:
            threading.Thread(target=run_scheduler, args=(stop,), daemon=True, name="periodic").start()
        try:
            if getattr(settings, "REDIS_URL", ""):
                call_command("rqworker", "default", burst=options["batch"])
            else:
                call_command("db_worker", batch=options["batch"], interval=1.0)
        finally:
            stop.set()
