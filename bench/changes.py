#!/usr/bin/env python3
"""Change calendar benchmark: 2,000 changes in one month over a CMDB with relationships, then the
month page and the conflict detection, p50/p95 over 50 runs each (target: p95 ≤ 150 ms).

    .venv/bin/python bench/changes.py                       # SQLite in a temporary folder
    .venv/bin/python bench/changes.py --database-url postgres://postgres@127.0.0.1:5432/palier_bench
    .venv/bin/python bench/changes.py --changes 500 --runs 20   # a quick look

Seeding goes through the models in bulk: business services → applications (depends on) → virtual
machines (runs on) → servers (hosted on); each change names one or two applications, machines or
servers, with a window of 1 to 6 hours in June 2026; then every change's footprint is refreshed
(``palier.changes.footprint.refresh``, timed). Measured in this process, without HTTP:

- ``conflicts``  ``palier.changes.conflicts.detect`` for the month grid (6 weeks)
- ``month``      ``GET /agent/changes/calendar/?month=2026-06`` through Django's test client, as an
                 administrator (the whole page: changes, conflicts, freezes, filters, feed links)
- ``month-filtered`` the same with a service filter

Only talks to the given database; every loop is bounded by ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(runs: int, action: Callable[[], object]) -> dict[str, float]:
    action()  # warm-up
    times: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
    }


def seed(changes: int, services: int, rng: random.Random) -> dict[str, object]:
    from django.db import transaction

    from palier.assets.models import Asset, AssetType, Relationship
    from palier.changes import footprint
    from palier.changes.models import Change, ChangeAsset, FreezeWindow
    from palier.people.models import SupportGroup

    types = {t.slug: t for t in AssetType.objects.all()}
    started = time.perf_counter()
    with transaction.atomic():

        def make(prefix: str, slug: str, count: int) -> list[Asset]:
            rows = [
                Asset(tag=f"{prefix}-{i:05d}", name=f"{prefix} {i}", type=types[slug], status=Asset.Status.DEPLOYED)
                for i in range(count)
            ]
            return Asset.objects.bulk_create(rows, batch_size=500)

        svc = make("SVC", "business-service", services)
        apps = make("APP", "application", services * 3)
        vms = make("VM", "virtual-machine", services * 2)
        servers = make("SRV", "server", max(2, services // 2))
        relations = []
        for i, app in enumerate(apps):
            relations.append(Relationship(source=svc[i // 3], target=app, kind="depends_on"))
            relations.append(Relationship(source=app, target=rng.choice(vms), kind="runs_on"))
        for vm in vms:
            relations.append(Relationship(source=vm, target=rng.choice(servers), kind="hosted_on"))
        Relationship.objects.bulk_create(relations, batch_size=1000, ignore_conflicts=True)
        group = SupportGroup.objects.order_by("id").first()
        month = datetime(2026, 6, 1, tzinfo=UTC)
        base_number = (Change.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        rows = []
        for i in range(changes):
            start = month + timedelta(minutes=rng.randrange(0, 29 * 24 * 60, 15))
            rows.append(
                Change(
                    number=base_number + i,
                    kind=rng.choice(["normal", "normal", "standard", "emergency"]),
                    title=f"Bench change {i}",
                    risk=rng.choice(["low", "low", "medium", "high", "critical"]),
                    status=rng.choice(["scheduled", "approved", "assessment", "draft"]),
                    planned_start=start,
                    planned_end=start + timedelta(hours=rng.randint(1, 6)),
                    implementation_plan="Bench",
                    group=group,
                )
            )
        made = Change.objects.bulk_create(rows, batch_size=500)
        pool = apps + vms + servers
        links = []
        for change in made:
            for asset in rng.sample(pool, rng.choice([1, 1, 2])):
                links.append(ChangeAsset(change=change, asset=asset))
        ChangeAsset.objects.bulk_create(links, batch_size=1000)
        FreezeWindow.objects.create(
            name="Bench freeze", starts_at=month + timedelta(days=25), ends_at=month + timedelta(days=27)
        )
    seeded = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic():
        rows_written = sum(footprint.refresh(change) for change in made)
    refreshed = time.perf_counter() - started
    return {
        "assets": len(svc) + len(apps) + len(vms) + len(servers),
        "relationships": len(relations),
        "changes": len(made),
        "footprint_rows": rows_written,
        "seed_s": round(seeded, 2),
        "footprint_refresh_s": round(refreshed, 2),
        "service": svc[0].pk,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=2000)
    parser.add_argument("--services", type=int, default=200, help="business services (×3 apps, ×2 VMs, ÷2 servers)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default="", help="a database to migrate and fill (default: temporary SQLite)")
    parser.add_argument(
        "--data-dir", default="", help="SQLite data folder to use and keep (with --no-seed: measure again)"
    )
    parser.add_argument("--no-seed", action="store_true", help="measure the data already there")
    parser.add_argument(
        "--no-freeze-gc", dest="freeze_gc", action="store_false", help="keep the start-up objects in the collector"
    )
    parser.add_argument("--profile", action="store_true", help="print where one month page spends its time")
    args = parser.parse_args()

    data_dir = ""
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    elif args.data_dir:
        os.environ["PALIER_DATA_DIR"] = args.data_dir
        os.environ.pop("DATABASE_URL", None)
    else:
        data_dir = tempfile.mkdtemp(prefix="palier-bench-changes-")
        os.environ["PALIER_DATA_DIR"] = data_dir
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    os.environ["DEBUG"] = "false"
    sys.path.insert(0, str(ROOT))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        from palier.changes import conflicts
        from palier.lib.gctune import tune_after_start_up
        from palier.people.models import User

        started = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        migrated = round(time.perf_counter() - started, 1)
        from django.conf import settings

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
        if args.no_seed:
            from palier.assets.models import Asset

            service = Asset.objects.filter(tag="SVC-00000").values_list("pk", flat=True).first()
            facts: dict[str, object] = {"service": service}
        else:
            facts = seed(args.changes, args.services, random.Random(args.seed))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        admin = User.objects.filter(role=User.Role.ADMIN, is_active=True).first()
        if admin is None:
            admin = User.objects.create_user(email="bench-admin@example.test", password=None, role=User.Role.ADMIN)
        client = Client()
        client.force_login(admin)
        if args.freeze_gc:
            # the objects of the loaded code leave the collector's generations, and young
            # collections run less often (palier/lib/gctune.py)
            tune_after_start_up()  # what palier/wsgi.py does in each web process
        grid_start = datetime(2026, 6, 1, tzinfo=UTC) - timedelta(days=1)
        grid_end = datetime(2026, 7, 6, tzinfo=UTC)
        found = conflicts.detect(grid_start, grid_end)

        def page(query: str) -> Callable[[], object]:
            def get() -> object:
                response = client.get("/agent/changes/calendar/" + query, HTTP_ACCEPT_LANGUAGE="en")
                assert response.status_code == 200, response.status_code
                return response

            return get

        if args.profile:
            import cProfile
            import pstats

            page("?month=2026-06")()
            profiler = cProfile.Profile()
            profiler.enable()
            page("?month=2026-06")()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return 0
        results = {
            "conflicts": measure(args.runs, lambda: conflicts.detect(grid_start, grid_end)),
            "month": measure(args.runs, page("?month=2026-06")),
            "month-filtered": measure(args.runs, page(f"?month=2026-06&service={facts['service']}")),
        }
        report = {
            "database": connection.vendor,
            "gc_frozen": args.freeze_gc,
            "migrate_s": migrated,
            **facts,
            "changes_in_conflict": len(found),
            "conflicts": sum(len(v) for v in found.values()),
            "results": results,
            "target_p95_ms": TARGET_MS,
            "passed": all(r["p95_ms"] <= TARGET_MS for r in results.values()),
        }
        print(json.dumps(report, indent=2))
        return 0 if report["passed"] else 1
    finally:
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
