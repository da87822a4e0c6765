#!/usr/bin/env python3
"""Ticket search by word frequency: the API's ``q=`` and the agent search page, in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/palier_bench_… .venv/bin/python bench/search.py
    .venv/bin/python bench/search.py --data-dir /path/to/sqlite/data --rounds 30
    .venv/bin/python bench/search.py --explain        # also EXPLAIN (ANALYZE, BUFFERS) each word once

Reads an existing demo data set (``palier demo --tickets N``; read-only: nothing is written but the
demo agent's session and API token, created in a transaction that is rolled back). Each request is
made as the demo L1 agent (``agent@demo.palier.test``), so the permission filter is part of every
query. Words come in four classes, by the share of tickets whose text (subject, description,
comments) contains them in the demo data: rare (well under 0.1 %), about 1 %, about 10 %, absent.
For each class it prints the matching tickets of each word and the p50 / p95 / max wall time and
the median CPU time of the process (Django + driver; SQLite's work is in-process too, PostgreSQL's
is not) over ``--rounds`` rounds, for the API (``GET /api/v1/tickets?q=``, 25 per page, newest
first) and the page (``GET /agent/search/?q=``, 20 tickets by last update, plus people).

Timings on a shared machine are noisy: compare before and after in the same sitting.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AGENT = "agent@demo.palier.test"
# Share of tickets matching in the demo data (``palier demo``, the same at 100,000 and 1,000,000).
# The demo's vocabulary has no rare single word (each is in at least 0.4 % of tickets), so the rare
# class is two words that seldom meet in one message (every word must be in the same entry).
CLASSES: dict[str, list[str]] = {
    "rare": ["imprimante jaures", "scanner lyon", "docking thames", "vpn lyon"],  # 0.02-0.06 %
    "1%": ["imprimante", "printer", "vpn", "licence"],  # 0.6-1.8 %
    "10%": ["compte", "mise", "refuse", "ecran"],  # 9-16 %
    "absent": ["wifi", "kubernetes", "zzyzx", "imprimante bordeaux"],
}


def _quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="", help="SQLite: the data folder of the demo (default: DATABASE_URL)")
    p.add_argument("--rounds", type=int, default=20, help="requests per word and interface (default 20)")
    p.add_argument("--explain", action="store_true", help="print the plan of the API query of each word once")
    p.add_argument("--only", default="", help="comma-separated classes (rare,1%%,10%%,absent)")
    args = p.parse_args(argv)
    if args.data_dir:
        os.environ["PALIER_DATA_DIR"] = args.data_dir
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    os.environ.setdefault("SECRET_KEY", "bench-search-" + "x" * 40)
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from palier.people.models import User
    from palier.people.services import create_api_token
    from palier.tickets import search
    from palier.tickets.models import Ticket

    agent = User.objects.get(email=AGENT)
    wanted = {c.strip() for c in args.only.split(",") if c.strip()}
    total = Ticket.objects.count()
    print(f"{total:,} tickets on {connection.vendor}; {args.rounds} rounds per word; agent {AGENT}")
    print(f"{'class':<7} {'word':<20} {'tickets':>8} {'share':>7}  {'API p50':>8} {'p95':>7} {'max':>7} {'cpu':>6}"
          f"  {'page p50':>8} {'p95':>7} {'max':>7} {'cpu':>6}")  # fmt: skip
    summary: dict[str, dict[str, list[float]]] = {}
    with transaction.atomic():
        token = create_api_token(agent, scope="read").secret
        api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT="application/json")
        page = Client()
        page.force_login(agent)
        for cls, words in CLASSES.items():
            if wanted and cls not in wanted:
                continue
            for word in words:
                matched = Ticket.objects.filter(search.matching(word, include_internal=True)).count()
                row: dict[str, tuple[list[float], list[float]]] = {}
                for name, client, url in (("api", api, "/api/v1/tickets"), ("page", page, "/agent/search/")):
                    client.get(url, {"q": word})  # warm-up
                    walls, cpus = [], []
                    for _ in range(args.rounds):
                        w0, c0 = time.perf_counter(), time.process_time()
                        answer = client.get(url, {"q": word})
                        cpus.append((time.process_time() - c0) * 1000)
                        walls.append((time.perf_counter() - w0) * 1000)
                        if answer.status_code != 200:
                            raise SystemExit(f"{url}?q={word}: {answer.status_code}")
                    row[name] = (walls, cpus)
                    summary.setdefault(cls, {}).setdefault(name, []).extend(walls)
                cells = []
                for name in ("api", "page"):
                    walls, cpus = row[name]
                    cells.append(
                        f"{statistics.median(walls):>8.1f} {_quantile(walls, 95):>7.1f} {max(walls):>7.1f} "
                        f"{statistics.median(cpus):>6.1f}"
                    )
                print(f"{cls:<7} {word:<20} {matched:>8,} {matched / max(total, 1):>7.2%}  {cells[0]}  {cells[1]}")
                if args.explain and connection.vendor == "postgresql":
                    with CaptureQueriesContext(connection) as seen:
                        api.get("/api/v1/tickets", {"q": word})
                    sql = max((q["sql"] for q in seen.captured_queries if "tickets_ticket" in q["sql"]), key=len)
                    with connection.cursor() as cur:
                        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                        print("\n".join(f"    {line}" for (line,) in cur.fetchall()))
        transaction.set_rollback(True)
    print()
    print("per class, all its words: p95 ms (API, page)")
    for cls, by in summary.items():
        print(f"  {cls:<7} API {_quantile(by['api'], 95):>7.1f}   page {_quantile(by['page'], 95):>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
