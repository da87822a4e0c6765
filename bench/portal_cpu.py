#!/usr/bin/env python3
"""Server CPU of the portal pages, in-process (Django's test client, no HTTP server): the median
and p95 of ``time.process_time`` per request and the number of SQL queries, for a signed-in
requester. On a shared machine this is steadier than wall-clock timings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> .venv/bin/python bench/portal_cpu.py
    ... --email requester@demo.palier.test --iterations 300 --profile portal-home

Without ``--email`` it picks the requester whose number of tickets is nearest ``--tickets`` (200).
Read-only: it signs in with a session in memory (``force_login`` writes one session row).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
os.environ.setdefault("SECRET_KEY", "bench-portal-cpu-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

PAGES = {
    "portal-home": ("/portal/", {}),
    "portal-requests": ("/portal/requests/", {}),
    "portal-closed": ("/portal/requests/", {"state": "closed"}),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--email", default="")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--profile", default="", help="a page name: print its cProfile (top 25 by cumulative time)")
    p.add_argument("--language", default="fr")
    p.add_argument("--sort", default="cumulative", help="cProfile order: cumulative or tottime")
    args = p.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count, F, Func
    from django.test import Client

    from palier.people.models import User
    from palier.tickets.models import Ticket

    if args.email:
        user = User.objects.get(email=args.email)
    else:
        row = (
            Ticket.objects.filter(requester__role=User.Role.REQUESTER, requester__is_active=True)
            .values("requester")
            .annotate(n=Count("id"))
            .annotate(gap=Func(F("n") - args.tickets, function="ABS"))
            .order_by("gap", "requester")
            .first()
        )
        assert row is not None, "no requester with tickets"
        user = User.objects.get(pk=row["requester"])
    count = Ticket.objects.filter(requester=user).count()
    client = Client(HTTP_ACCEPT_LANGUAGE=args.language)
    client.force_login(user)
    print(f"{user.email}: {count} tickets; {Ticket.objects.count():,} tickets in all; load {os.getloadavg()[0]:.2f}")
    for name, (path, params) in PAGES.items():
        for _ in range(10):  # warm-up: templates, translations, connection
            assert client.get(path, params).status_code == 200
        queries: list[str] = []

        def count(execute, sql, params_, many, context, queries=queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params_, many, context)

        with connection.execute_wrapper(count):
            client.get(path, params)
        costs = []
        for _ in range(args.iterations):
            t0 = time.process_time()
            response = client.get(path, params)
            costs.append((time.process_time() - t0) * 1000)
            assert response.status_code == 200
        cuts = statistics.quantiles(costs, n=100, method="inclusive")
        print(
            f"{name:<16} CPU ms/request median {statistics.median(costs):6.2f}  p95 {cuts[94]:6.2f}  "
            f"queries {len(queries)}"
        )
        if args.profile == name:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(50):
                client.get(path, params)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
