"""Run by ``tickets/tests/test_batching_crash.py`` in its own process: three API-style creations
through the group-commit writer, whose transaction stops (``PALIER_CRASH_MARKER`` touched, then a
long sleep) after the tickets, their events and search entries were written and while the SLA
clocks are written, so the test can SIGKILL the process right there. ``PALIER_CRASH_MARKER``
empty: no stop, the creations finish."""

from __future__ import annotations

import os
import sys
import threading
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
django.setup()

from django.conf import settings  # noqa: E402

from palier.people.models import User  # noqa: E402
from palier.tickets import hooks  # noqa: E402
from palier.tickets import services as tickets  # noqa: E402
from palier.tickets.services import batching  # noqa: E402


def _stop_here(created: list[object]) -> None:
    marker = os.environ.get("PALIER_CRASH_MARKER", "")
    if marker:
        open(marker, "w").close()
        time.sleep(120)  # killed here, in the middle of the writer's transaction


def main() -> None:
    settings.PALIER_CREATE_BATCH = 8
    hooks.register(opened_many=_stop_here)  # after the SLA clocks hook: clocks planned, not committed
    requester = User.objects.get(email=sys.argv[1])
    items = [
        tickets.prepare_ticket(requester=requester, by=requester, subject=f"Crash {n}", description="x")
        for n in range(3)
    ]
    threads = [threading.Thread(target=batching.open_ticket_batched, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("created")


if __name__ == "__main__":
    main()
