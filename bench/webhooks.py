#!/usr/bin/env python3
"""Webhook delivery benchmark: deliveries per second to a local receiver with two workers, and
none lost nor duplicated while the receiver is down for a minute.

    .venv/bin/python bench/webhooks.py                                  # a temporary SQLite database
    .venv/bin/python bench/webhooks.py --database-url postgres://postgres@127.0.0.1:5432/

Setup (not timed): one subscription to ``ticket.created`` pointing at a real HTTP receiver on
127.0.0.1 (``PALIER_WEBHOOKS_ALLOW_PRIVATE`` and ``_ALLOW_HTTP`` on), tickets and their
``created`` events bulk-inserted, the ``webhooks`` stream consumer run, which writes one delivery
each and queues the delivery tasks on the database queue.

1. Throughput: two ``palier worker`` processes deliver them; the rate is the deliveries over the
   time from the first attempt to the last (the workers' start-up is not counted).
2. Outage: the receiver is stopped, more events are handed over, the workers' attempts fail;
   after ``--outage`` seconds the receiver comes back on the same port and ``palier scheduler``'s
   ``webhooks`` job brings the retries. Every delivery id must arrive exactly once.

Prints JSON. On PostgreSQL the database ``palier_webhooksbench_<time>`` is created and dropped.
Target: at least 200 deliveries/s; zero lost, zero duplicated.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 200.0


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if not url:
        with tempfile.TemporaryDirectory(prefix="palier-webhooks-bench-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"palier_webhooksbench_{datetime.now(UTC):%Y%m%d%H%M%S}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Receiver:
    """A real receiver on 127.0.0.1 counting each delivery id; stop() and start() keep the port."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.seen[self.headers.get("X-Palier-Delivery", "")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.request_queue_size = 256
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def seed(count: int, requester: Any) -> int:
    """``count`` tickets with their ``created`` event; returns the event id before them."""
    from palier.tickets.models import Ticket, TicketEvent

    last = Ticket.objects.order_by("-number").values_list("number", flat=True).first() or 0
    now = datetime.now(UTC)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(number=last + n + 1, subject=f"Imprimante {n}", requester=requester, created_at=now, updated_at=now)
            for n in range(count)
        ],
        batch_size=1000,
    )
    start = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    TicketEvent.objects.bulk_create(
        [TicketEvent(ticket=t, kind="created", actor=requester, data={}) for t in tickets], batch_size=2000
    )
    return start


def hand_over(start: int) -> None:
    """The ``webhooks`` consumer handles the seeded events; the other consumers (emails, rules,
    reports) skip them, so the workers' time is the deliveries'."""
    from palier.tickets import stream
    from palier.tickets.models import StreamCursor, TicketEvent

    end = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for name in stream.consumers():
        StreamCursor.objects.update_or_create(name=name, defaults={"position": start if name == "webhooks" else end})
    while stream.pump("webhooks", batch=500):
        pass


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="palier-webhooks-data-") as data, database(args.database_url) as url:
        env = {
            "DJANGO_SETTINGS_MODULE": "palier.settings",
            "DATABASE_URL": url,
            "PALIER_DATA_DIR": data,
            "SECRET_KEY": "webhooks-bench-" + "k" * 40,
            "PALIER_WEBHOOKS_ALLOW_PRIVATE": "1",
            "PALIER_WEBHOOKS_ALLOW_HTTP": "1",
        }
        os.environ.update(env)
        os.environ.pop("REDIS_URL", None)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.db.models import Max, Min

        from palier.people import services as people
        from palier.people.models import User
        from palier.webhooks import services
        from palier.webhooks.models import Attempt, Delivery
        from testsupport.processes import palier_env, run_palier, run_workers

        call_command("migrate", verbosity=0)
        admin = people.create_user(email="admin@bench.test", role=User.Role.ADMIN)
        requester = people.create_user(email="req@bench.test", full_name="Requester")
        receiver = Receiver()
        receiver.start()
        services.create_subscription(
            by=admin, name="Bench", url=f"http://127.0.0.1:{receiver.port}/hook", event_types=["ticket.created"]
        )
        hand_over(seed(args.deliveries, requester))
        assert Delivery.objects.count() == args.deliveries
        worker_env = palier_env(**env)
        delivered = Delivery.objects.filter(state="delivered")
        with run_workers(2, env=worker_env) as workers:
            workers.wait_until(lambda: delivered.count() == args.deliveries, timeout=600, poll=0.2)
            span = Attempt.objects.aggregate(first=Min("at"), last=Max("at"))
            seconds = (span["last"] - span["first"]).total_seconds()
            rate = args.deliveries / seconds if seconds else 0.0
            # 2. the receiver goes down for a minute while more events arrive
            receiver.stop()
            down_at = time.monotonic()
            hand_over(seed(args.outage_deliveries, requester))
            total = args.deliveries + args.outage_deliveries
            with run_palier(["scheduler"], 1, env=worker_env):
                time.sleep(max(0.0, args.outage - (time.monotonic() - down_at)))
                failed_attempts = Attempt.objects.filter(status_code__isnull=True).count()
                receiver.start()
                back_at = time.monotonic()
                wait(lambda: delivered.count() == total, timeout=900, what="the deliveries after the outage")
                caught_up = time.monotonic() - back_at
        receiver.stop()
        duplicates = sum(n - 1 for n in receiver.seen.values() if n > 1)
        lost = total - len(receiver.seen)
        met = rate >= TARGET and duplicates == 0 and lost == 0
        print(
            json.dumps(
                {
                    "benchmark": "webhooks",
                    "database": connection.vendor,
                    "workers": 2,
                    "deliveries": args.deliveries,
                    "seconds": round(seconds, 3),
                    "deliveries_per_s": round(rate, 1),
                    "target_deliveries_per_s": TARGET,
                    "outage_s": args.outage,
                    "outage_deliveries": args.outage_deliveries,
                    "failed_attempts_during_outage": failed_attempts,
                    "caught_up_s_after_restart": round(caught_up, 1),
                    "received_ids": len(receiver.seen),
                    "lost": lost,
                    "duplicates": duplicates,
                    "met": met,
                },
                indent=2,
            )
        )
        return 0 if met else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL (default: temporary SQLite)")
    parser.add_argument("--deliveries", type=int, default=5000)
    parser.add_argument("--outage-deliveries", type=int, default=1000)
    parser.add_argument("--outage", type=float, default=60.0, help="seconds the receiver is down")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
