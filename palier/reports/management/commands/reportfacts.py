"""``palier reportfacts [--rebuild]``: the state of the dashboards' per-ticket facts, or rebuild them."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from palier.reports import facts
from palier.reports.models import FactsState


class Command(BaseCommand):
    help = "Show whether the dashboards' per-ticket facts are built; --rebuild recomputes them all now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="recompute every ticket's facts from its history")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild"]:
            started = time.monotonic()
            done = facts.rebuild()
            self.stdout.write(f"Facts recomputed for {done} tickets in {time.monotonic() - started:.1f} s.")
        state = FactsState.objects.filter(pk=1).first()
        if state is not None and state.built:
            self.stdout.write("Built: the dashboards read the facts.")
        else:
            position = f"{state.backfill_next_id} of {state.backfill_until_id}" if state else "not started"
            self.stdout.write(f"Not built yet (backfill at ticket {position}): the dashboards compute live.")
