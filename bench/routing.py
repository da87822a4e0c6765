#!/usr/bin/env python3
"""Routing and assignment benchmark: what they add to ``open_ticket`` (p50), in process.

    .venv/bin/python bench/routing.py                                  # a temporary SQLite database
    .venv/bin/python bench/routing.py --database-url postgres://postgres@127.0.0.1:5432/

"Without": the routing hook unregistered (the ticket goes straight to the triage group).
"With": 30 active rules (29 that do not match, with word and category conditions, then a
catch-all) placing the ticket in a round-robin group of 4 agents, so each creation reads the
cache token, walks the category's ancestors, locks the group and picks an agent. The two modes
alternate in blocks so drift (other load, database growth) hits both alike. Prints JSON.
On PostgreSQL the database ``palier_routingbench_<time>`` is created and dropped afterwards.
Target (issue #4): routing and assignment add ≤ 5 ms to creation p50.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 5.0
SUBJECTS = ["Imprimante en panne au 3e étage", "Cannot connect to the VPN", "Écran noir au démarrage"]


@contextmanager
def database(url: str | None, *, keep: bool) -> Iterator[str]:
    if not url:
        with tempfile.TemporaryDirectory(prefix="palier-routing-bench-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"palier_routingbench_{datetime.now(UTC):%Y%m%d%H%M%S}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        if keep:
            sys.stderr.write(f"kept database {name}\n")
        else:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed() -> tuple[object, object]:
    from palier.people import services as people
    from palier.people.models import SupportGroup, User
    from palier.routing import services as routing
    from palier.tickets.models import Category

    admin = people.create_user(email="admin@bench.test", role=User.Role.ADMIN)
    org = people.create_organisation(name="Bench", email_domain="bench.test")
    requester = people.create_user(email="req@bench.test", full_name="Requester", organisation=org)
    desk = people.create_group(name="Desk", level=1)
    SupportGroup.objects.filter(pk=desk.pk).update(assignment_strategy=SupportGroup.Strategy.ROUND_ROBIN)
    other = people.create_group(name="Other", level=2)
    for i in range(4):
        agent = people.create_user(email=f"agent{i}@bench.test", role=User.Role.AGENT)
        people.add_group_member(desk, user=agent)
    software = Category.objects.get(slug="software")
    for i in range(29):
        routing.create_rule(by=admin, name=f"Rule {i}", group=other, words=f"nomatch{i}, autre{i}", category=software)
    routing.create_rule(by=admin, name="Catch-all", group=desk)
    return requester, Category.objects.get(slug="network-vpn")


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    with database(args.database_url, keep=args.keep) as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from palier.routing.services.placement import place_new_tickets
        from palier.tickets import hooks
        from palier.tickets.services import open_ticket

        call_command("migrate", verbosity=0)
        requester, category = seed()
        counter = iter(range(10**9))

        def create() -> float:
            n = next(counter)
            start = time.perf_counter()
            open_ticket(requester=requester, subject=SUBJECTS[n % 3], category=category, by=None)
            return (time.perf_counter() - start) * 1000

        samples: dict[str, list[float]] = {"without": [], "with": []}
        for _ in range(3):  # warm up both paths
            create()
        routing = ("many", place_new_tickets)  # listed in palier/events.py, first of before_open
        position = hooks.before_open.index(routing)
        for _block in range(args.blocks):
            hooks.before_open.remove(routing)
            samples["without"] += [create() for _ in range(args.block_size)]
            hooks.before_open.insert(position, routing)
            samples["with"] += [create() for _ in range(args.block_size)]
        without, with_routing = (statistics.median(samples[k]) for k in ("without", "with"))
        added = with_routing - without
        print(
            json.dumps(
                {
                    "benchmark": "routing",
                    "database": connection.vendor,
                    "rules": 30,
                    "strategy": "round_robin (4 agents)",
                    "creations_per_mode": len(samples["with"]),
                    "without_p50_ms": round(without, 2),
                    "with_p50_ms": round(with_routing, 2),
                    "added_p50_ms": round(added, 2),
                    "target_ms": TARGET_MS,
                    "met": added <= TARGET_MS,
                },
                indent=2,
            )
        )
        return 0 if added <= TARGET_MS else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL (default: temporary SQLite)")
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--block-size", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
