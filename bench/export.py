#!/usr/bin/env python3
"""Ticket export benchmark: a full CSV (or XLSX) export of N demo tickets through the queue's
export view, timed, with the process's peak memory.

    .venv/bin/python bench/export.py --tickets 20000                 # SQLite in a temporary folder
    .venv/bin/python bench/export.py --tickets 20000 --format xlsx
    .venv/bin/python bench/export.py --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/palier_1m --no-seed

Seeds with ``palier migrate`` and ``palier demo --tickets N --seed 42`` (as ``bench/run.py``)
unless ``--no-seed``, then, in this process, signs the demo administrator in with Django's test
client, makes a warm-up export that matches no ticket (imports, catalogs), then reads
``GET /agent/export/csv/?status=all`` to the end ``--runs`` times (every ticket, every status,
through the permission filter and the queue's filter form). The export runs inline whatever the
row count (``PALIER_EXPORT_INLINE_ROWS`` is raised for the run). Prints JSON: rows, seconds and
rows/s of each run, and the peak resident memory of the process after the warm-up and after the
exports (``getrusage``): their difference is what the exports themselves cost.
Figures and how to read them: docs/reports-exports.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN = "admin@demo.palier.test"


def peak_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def palier(env: dict[str, str], *args: str) -> None:
    proc = subprocess.run([str(BIN / "palier"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"palier {' '.join(args)} failed ({proc.returncode})")


def seed(env: dict[str, str], tickets: int) -> float:
    palier(env, "migrate", "--no-input", "-v0")
    started = time.perf_counter()
    palier(env, "demo", "--tickets", str(tickets), "--seed", "42")
    analyze = "VACUUM ANALYZE" if env.get("DATABASE_URL") else "ANALYZE"
    palier(env, "shell", "-c", f"from django.db import connection; connection.cursor().execute('{analyze}')")
    return round(time.perf_counter() - started, 1)


def _export(client: object, fmt: str, params: dict[str, str]) -> tuple[int, int, float]:
    """(bytes, newlines, seconds) of one export read to the end."""
    started = time.perf_counter()
    response = client.get(f"/agent/export/{fmt}/", params)  # type: ignore[attr-defined]
    assert response.status_code == 200, response.status_code
    size, newlines = 0, 0
    for chunk in response.streaming_content:
        size += len(chunk)
        newlines += chunk.count(b"\n")
    return size, newlines, time.perf_counter() - started


def measure(fmt: str, runs: int) -> dict[str, object]:
    """A warm-up export matching nothing (imports, catalogs, first queries), then ``runs`` full
    exports; the peak memory after the warm-up and after the full exports."""
    import django

    django.setup()
    from django.test import Client

    from palier.people.models import User
    from palier.tickets.models import Ticket

    client = Client()
    client.force_login(User.objects.get(email=ADMIN))
    _export(client, fmt, {"status": "all", "q": "zzqxw"})
    warm = peak_mb()
    total = Ticket.objects.count()  # the administrator sees every ticket
    results = []
    for _run in range(runs):
        size, newlines, seconds = _export(client, fmt, {"status": "all"})
        # CSV: one line per row after the header (demo subjects hold no newline)
        rows = newlines - 1 if fmt == "csv" else total
        results.append(
            {"rows": rows, "bytes": size, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds)}
        )
    return {
        "format": fmt,
        "runs": results,
        "peak_rss_mb_after_warm_up": warm,
        "peak_rss_mb_after_exports": peak_mb(),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=20_000)
    p.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    p.add_argument("--database-url", default="", help="PostgreSQL database to use (default: SQLite in a temp folder)")
    p.add_argument("--data-dir", default="", help="PALIER_DATA_DIR to use (kept afterwards)")
    p.add_argument("--no-seed", action="store_true", help="the database already holds the demo data")
    p.add_argument("--runs", type=int, default=2, help="full exports to time (default 2: cold, then warm)")
    args = p.parse_args()
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="palier-export-bench-"))
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PALIER_DATA_DIR": str(data_dir),
        "SECRET_KEY": os.environ.get("SECRET_KEY", secrets.token_urlsafe(40)),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "LOG_LEVEL": "WARNING",
        "PALIER_EXPORT_INLINE_ROWS": "100000000",
        "DJANGO_SETTINGS_MODULE": "palier.settings",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        env.pop("DATABASE_URL", None)
    try:
        seeded = None if args.no_seed else seed(env, args.tickets)
        os.environ.clear()
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        result = measure(args.format, args.runs)
    finally:
        if not args.data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    out = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": "postgresql" if args.database_url else "sqlite",
        "tickets": args.tickets,
        "seeded_seconds": seeded,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}",
        **result,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
