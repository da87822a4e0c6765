"""Server CPU of the agent queue page, measured in-process (no HTTP server, no client noise).

Signs the demo agent in with Django's test client and asks for the queue page many times: the
default view and "assigned to me", full pages and the table partial that the live refresh asks
for. For each it prints the median server CPU (``time.process_time``), the median time spent in
SQL (measured around each query: the page's SQL floor), and the number of queries. ``--profile``
prints where the CPU goes (cProfile, sorted by cumulative time).

    PALIER_DATA_DIR=/path/to/data .venv/bin/python bench/queue_page.py          # SQLite demo data
    DATABASE_URL=postgres://… .venv/bin/python bench/queue_page.py --requests 200

Read-only: it never writes to the database (except the session row of the forced sign-in)."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

AGENT = "agent@demo.palier.test"
SCENARIOS = {
    "queue (default view)": ("/agent/", {}),
    "queue (assigned to me)": ("/agent/", {"assignee": "me"}),
    "queue refresh (table partial)": ("/agent/", {"since": "2020-01-01T00:00:00+00:00", "_htmx": "1"}),
}


class SqlTimer:
    """Wraps every query of the connection and adds up its wall time and count."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=100, help="requests per scenario (default 100)")
    p.add_argument("--profile", action="store_true", help="print a cProfile of the default view")
    p.add_argument("--language", default="", help="the agent's language for the run (fr, en); default: theirs")
    args = p.parse_args(argv)

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from palier.people.models import User

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host name
    agent = User.objects.get(email=AGENT)
    if args.language:
        agent.language = args.language  # in memory only: the middleware reads request.user
    client = Client()
    client.force_login(agent)

    def get(path: str, params: dict[str, str]) -> Any:
        headers = {"HTTP_HX_REQUEST": "true"} if params.get("_htmx") else {}
        query = {k: v for k, v in params.items() if k != "_htmx"}
        response = client.get(path, query, **headers)
        assert response.status_code == 200, response.status_code
        return response

    print(f"{'scenario':34} {'cpu ms (median)':>16} {'sql ms (median)':>16} {'queries':>8}")
    for name, (path, params) in SCENARIOS.items():
        for _ in range(5):  # warm caches and imports
            get(path, params)
        cpu, sql, counts = [], [], []
        for _ in range(args.requests):
            timer = SqlTimer()
            with connection.execute_wrapper(timer):
                started = time.process_time()
                get(path, params)
                cpu.append(time.process_time() - started)
            sql.append(timer.seconds)
            counts.append(timer.count)
        print(
            f"{name:34} {statistics.median(cpu) * 1000:16.2f} {statistics.median(sql) * 1000:16.2f} "
            f"{statistics.median(counts):8.0f}"
        )
    if args.profile:
        path, params = SCENARIOS["queue (default view)"]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(50):
            get(path, params)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(
            int(os.environ.get("TOP", "45"))
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
