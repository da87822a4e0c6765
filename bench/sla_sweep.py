#!/usr/bin/env python3
"""SLA sweep benchmark: 1,000,000 running clocks of which 1% are due; time the sweep of the due ones.

    .venv/bin/python bench/sla_sweep.py postgres://postgres@127.0.0.1:5432/

Works in the database ``palier_sla_bench`` on that server (created once, reused afterwards):
cloned from ``palier_1m`` when that demo database exists (it is never modified), otherwise
migrated and filled with tickets by SQL. Each ticket gets one running resolution clock; every
hundredth is past its warning and due times, so a sweep fires 10,000 warnings and 10,000
breaches and their notifications (5 group members and a manager). Re-runs re-arm the due
clocks (the bench database's SLA events and notifications are emptied first). ``--workers 2`` sweeps with two workers at once, as two
``palier worker`` processes would. Prints JSON with the timing; see docs/sla.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "palier_sla_bench"
SOURCE_DB = "palier_1m"


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def ensure_database(url: str) -> str:
    """Create ``palier_sla_bench`` if needed (a clone of palier_1m when it exists)."""
    import psycopg

    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as conn:
        names = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        if BENCH_DB not in names:
            if SOURCE_DB in names:
                conn.execute(f'CREATE DATABASE "{BENCH_DB}" TEMPLATE "{SOURCE_DB}"')
            else:
                conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return _with_db(url, BENCH_DB)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def ensure_people() -> tuple[int, int]:
    """A requester, and the triage group with 5 agents and a manager (who receive the notifications)."""
    from palier.people.models import Membership, SupportGroup, User

    requester, _ = User.objects.get_or_create(email="bench-requester@sla.test", defaults={"full_name": "Bench"})
    group = SupportGroup.objects.get(is_triage=True)
    manager, _ = User.objects.get_or_create(email="bench-manager@sla.test", defaults={"role": "manager"})
    if group.manager_id is None:
        SupportGroup.objects.filter(pk=group.pk).update(manager=manager)
    for n in range(5):
        agent, _ = User.objects.get_or_create(email=f"bench-agent{n}@sla.test", defaults={"role": "agent"})
        Membership.objects.get_or_create(group=group, user=agent)
    return requester.pk, group.pk


def ensure_tickets(count: int, requester_id: int, group_id: int) -> int:
    """At least ``count`` open tickets: copies of one template row, numbered by generate_series."""
    from django.db import connection

    from palier.tickets.models import Ticket

    have = Ticket.objects.count()
    if have >= count:
        return have
    now = time.time()
    template, _ = Ticket.objects.get_or_create(
        kind="incident",
        number=10**9,
        defaults={
            "subject": "Bench ticket",
            "requester_id": requester_id,
            "group_id": group_id,
            "status": "in_progress",
        },
    )
    columns = [f.column for f in Ticket._meta.concrete_fields if f.column != "id"]
    select = ", ".join(
        "t.number + g"
        if c == "number"
        else ("now() - (g %% 1000) * interval '1 minute'" if c == "created_at" else f"t.{c}")
        for c in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO tickets_ticket ({', '.join(columns)}) SELECT {select} "
            f"FROM tickets_ticket t, generate_series(1, %s) g WHERE t.id = %s",
            [count - Ticket.objects.count(), template.pk],
        )
        cursor.execute("ANALYZE tickets_ticket")
    print(f"inserted {count - have} tickets in {time.time() - now:.1f} s", file=sys.stderr)
    return count


def ensure_clocks(due_every: int) -> tuple[int, int]:
    """One running resolution clock per ticket; every ``due_every``-th is due now (re-armed on re-runs)."""
    from django.db import connection

    from palier.sla.models import Calendar, Clock, SlaPolicy

    policy = SlaPolicy.objects.get(name="P4 - Low")
    calendar = Calendar.objects.get(name="Business hours")
    with connection.cursor() as cursor:
        if not Clock.objects.exists():
            started = time.time()
            cursor.execute(
                """
                INSERT INTO sla_clock (ticket_id, kind, policy_id, calendar_id, target_minutes, warn_percent,
                    started_at, resumed_at, consumed_minutes, paused_status, paused_minutes, due_at, warn_at,
                    next_event_at, generation, outcome)
                SELECT id, 'resolution', %(policy)s, %(calendar)s, 2700, 75, now() - interval '1 day',
                    now() - interval '1 day', 0, '', '{}'::jsonb, d.due, d.warn, d.warn, 1, ''
                FROM tickets_ticket,
                LATERAL (SELECT CASE WHEN id %% %(every)s = 0 THEN now() - interval '1 minute'
                                     ELSE now() + interval '10 days' END AS due,
                                CASE WHEN id %% %(every)s = 0 THEN now() - interval '2 hours'
                                     ELSE now() + interval '5 days' END AS warn) d
                """,
                {"policy": policy.pk, "calendar": calendar.pk, "every": due_every},
            )
            print(f"inserted clocks in {time.time() - started:.1f} s", file=sys.stderr)
        else:  # re-arm the due clocks: their warnings and breaches fire again, into empty tables
            cursor.execute("TRUNCATE notifications_notification")
            cursor.execute("DELETE FROM tickets_ticketevent WHERE kind IN ('sla_warning', 'sla_breach')")
            cursor.execute(
                """UPDATE sla_clock SET warned_at = NULL, breached_at = NULL, generation = generation + 1,
                       due_at = now() - interval '1 minute', warn_at = now() - interval '2 hours',
                       next_event_at = now() - interval '2 hours'
                   WHERE ticket_id %% %s = 0""",
                [due_every],
            )
        cursor.execute("ANALYZE sla_clock")
    from django.utils import timezone

    return Clock.objects.count(), Clock.objects.filter(next_event_at__lte=timezone.now()).count()


def sweep_in_parallel(workers: int, batch: int) -> dict[str, int]:
    """What ``workers`` task workers do at once: each sweeps until nothing is due (own connection)."""
    import threading

    from django.db import connection

    from palier.sla import services

    if workers <= 1:
        return services.sweep_all(batch=batch)
    totals: dict[str, int] = {}
    lock = threading.Lock()

    def work() -> None:
        try:
            counts = services.sweep_all(batch=batch)
            with lock:
                for key, value in counts.items():
                    totals[key] = totals.get(key, 0) + value
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url", help="a PostgreSQL server URL, e.g. postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due-every", type=int, default=100, help="every N-th clock is due (100 = 1%%)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1, help="parallel sweeps (own connections, SKIP LOCKED)")
    args = parser.parse_args()
    setup_django(ensure_database(args.database_url))
    requester_id, group_id = ensure_people()
    tickets = ensure_tickets(args.tickets, requester_id, group_id)
    clocks, due = ensure_clocks(args.due_every)

    from palier.sla import services

    started = time.perf_counter()
    counts = sweep_in_parallel(args.workers, args.batch)
    seconds = time.perf_counter() - started
    again = services.sweep_all(batch=args.batch)
    print(
        json.dumps(
            {
                "benchmark": "sla-sweep",
                "database": "postgresql",
                "tickets": tickets,
                "clocks": clocks,
                "due": due,
                "batch": args.batch,
                "workers": args.workers,
                "seconds": round(seconds, 2),
                "clocks_per_second": round(due / seconds) if seconds else None,
                "counts": counts,
                "second_sweep_selected": again.get("selected", 0),
                "target_seconds": 10,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
