#!/usr/bin/env python3
"""Bulk creation benchmark: ``POST /api/v1/tickets/bulk`` with 1,000 tickets per request, over HTTP.

    .venv/bin/python bench/bulk_create.py --database-url postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/bulk_create.py --tickets 20000                 # SQLite, smaller seed
    .venv/bin/python bench/bulk_create.py --no-seed --database-url postgres://…/palier_bench_…   # kept data

Seeds the demo like ``bench/run.py`` (``palier demo --tickets N``, then ANALYZE), serves it with
gunicorn (2 sync workers) and sends, from one client connection, ``--requests`` bulk requests of
``--items`` tickets each, as the demo's L1 agent with a write token, in three scenarios:

- ``plain``: items without keys (subject, description, impact, urgency, a tag);
- ``keyed``: the same with an ``idempotency_key`` per item (what an import sends);
- ``replay``: the ``keyed`` requests sent again: every item answers ``existing``, nothing is written.

Each request's answer is checked (201/200, every item created or existing). Reports, per scenario,
the p50 and best request time, tickets per second (items / p50) and the CPU each process group
spent, and writes ``bench/results/<time>-bulk-<db>-<N>.json``. Target (issue 19): ≥ 1,000 tickets/s
on PostgreSQL for 1,000 tickets in one request.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as base

TARGET_TPS = 1000
WORDS = ["disque", "mémoire", "VPN", "imprimante", "latence", "certificat", "sauvegarde", "DNS"]


def items(n: int, request: int, *, keyed: bool) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        word = WORDS[(request + i) % len(WORDS)]
        item: dict[str, Any] = {
            "subject": f"Alerte {word} sur srv-{request:03d}-{i:04d}",
            "description": f"Seuil dépassé ({word}) : valeur {i % 97} % depuis 5 minutes. Source : supervision.",
            "impact": ("high", "medium", "low")[i % 3],
            "urgency": ("medium", "low")[i % 2],
            "tags": ["supervision"],
        }
        if keyed:
            item["idempotency_key"] = f"bench-{request}-{i}-{uuid.uuid4().hex[:8]}"
        out.append(item)
    return out


def send(client: base.LeanClient, body: dict[str, Any], *, expect: str) -> float:
    started = time.perf_counter()
    answer = client.post("/api/v1/tickets/bulk", json=body)
    elapsed = time.perf_counter() - started
    if answer.status_code not in (200, 201):
        raise SystemExit(f"bulk request answered {answer.status_code}: {answer.text[:500]}")
    statuses = {item["status"] for item in json.loads(answer.content)["items"]}
    if statuses != {expect}:
        raise SystemExit(f"expected every item {expect}, got {sorted(statuses)}")
    return elapsed


def scenario(
    name: str, client: base.LeanClient, bodies: list[dict[str, Any]], *, expect: str, count: int
) -> dict[str, Any]:
    before = base.cpu_seconds()
    times = [send(client, body, expect=expect) for body in bodies]
    used = base.cpu_used(before, base.cpu_seconds())
    p50 = statistics.median(times)
    result = {
        "scenario": name,
        "requests": len(times),
        "items_per_request": count,
        "p50_s": round(p50, 3),
        "best_s": round(min(times), 3),
        "worst_s": round(max(times), 3),
        "tickets_per_s": round(count / p50),
        "cpu_ms_per_ticket": {k: round(v * 1000 / (count * len(times)), 3) for k, v in used.items()},
    }
    sys.stderr.write(f"  {name}: p50 {result['p50_s']} s per {count} tickets, {result['tickets_per_s']} tickets/s\n")
    return result


def bench(args: argparse.Namespace, env: dict[str, str], out: dict[str, Any]) -> None:
    if not args.no_seed:
        base.palier(env, "migrate", "--no-input", "-v0")
        started = time.perf_counter()
        base.palier(env, "demo", "--tickets", str(args.tickets), "--seed", str(args.seed))
        out["seed_seconds"] = round(time.perf_counter() - started, 1)
        analyze = "VACUUM ANALYZE" if env.get("DATABASE_URL") else "ANALYZE"
        base.palier(env, "shell", "-c", f"from django.db import connection; connection.cursor().execute('{analyze}')")
    token = base.make_token(env)
    out["tickets_before"] = int(base.fixtures(env)["tickets"])  # type: ignore[call-overload]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with base.server(env, base.free_port(), args.workers, 1) as url:
        base.wait_ready(url, headers)
        client = base.LeanClient(url, headers)
        send(client, {"items": items(100, 10_000, keyed=False)}, expect="created")  # warm-up
        plain = [{"items": items(args.items, r, keyed=False)} for r in range(args.requests)]
        keyed = [{"items": items(args.items, 1000 + r, keyed=True)} for r in range(args.requests)]
        out["results"] = [
            scenario("plain", client, plain, expect="created", count=args.items),
            scenario("keyed", client, keyed, expect="created", count=args.items),
            scenario("replay", client, keyed, expect="existing", count=args.items),
        ]
        client.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets to seed first (default 100,000)")
    p.add_argument("--database-url", default="", help="a PostgreSQL server URL; a fresh database is created")
    p.add_argument("--no-seed", action="store_true", help="reuse the database named in --database-url")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--requests", type=int, default=5, help="bulk requests per scenario (default 5)")
    p.add_argument("--items", type=int, default=1000, help="tickets per request (default 1,000)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args(argv)
    out: dict[str, Any] = {
        "benchmark": "bulk_create",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql" if args.database_url else "sqlite",
        "machine": base.machine(),
        "target_tickets_per_s": TARGET_TPS,
    }
    data_dir = Path(tempfile.mkdtemp(prefix="palier-bulk-bench-"))
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    with base.database(args.database_url, keep=args.keep, reuse=args.no_seed) as url:
        # the database CPU counted is that of this run's database only, not the whole server's
        base.DATABASE_NAME = urlsplit(url).path.strip("/") if url else ""
        env = {
            **os.environ,
            "PALIER_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PALIER_API_RATE_TOKEN": "0",
            # the `palier` commands import this checkout, not whichever one the virtualenv installed
            "PYTHONPATH": os.pathsep.join(filter(None, [str(base.ROOT), os.environ.get("PYTHONPATH", "")])),
        }
        if url:
            env["DATABASE_URL"] = url
        else:
            env.pop("DATABASE_URL", None)
        try:
            bench(args, env, out)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    plain = next(r for r in out["results"] if r["scenario"] == "plain")
    out["met"] = plain["tickets_per_s"] >= TARGET_TPS
    print(json.dumps(out, indent=2, ensure_ascii=False))
    base.RESULTS.mkdir(exist_ok=True)
    path = base.RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-bulk-{out['database']}-{out['tickets_before']}.json"
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stderr.write(f"wrote {path.relative_to(base.ROOT)}\n")
    return 0 if out["met"] or out["database"] != "postgresql" else 1


if __name__ == "__main__":
    sys.exit(main())
