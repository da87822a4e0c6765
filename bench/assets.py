#!/usr/bin/env python3
"""Asset benchmark: seed N assets (100,000 by default) with relationship chains five levels deep,
serve them with gunicorn (2 workers) and measure the asset pages and the inventory intake.

    .venv/bin/python bench/assets.py --database-url postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/assets.py --only intake --assets 10000     # a quick look

Seeding goes through the models in bulk (no services: history events are bulk-inserted too):
business services → applications (depends on) → virtual machines (runs on) → servers (hosted on)
→ access switches (connects to) → core routers (connects to); the rest are laptops, desktops,
monitors and printers assigned to the demo's requesters. Scenarios:

- ``asset-list``   the agent's asset list (/agent/assets/), first page and text filter
- ``asset-page``   an asset's page (its events, relationships, tickets)
- ``impact``       the impact view of a business service five levels down (``assets:impact``;
                   skipped with a note when this build has no impact page)
- ``intake``       distinct full computer reports (computer_1.json with new serials, UUIDs, MAC
                   addresses and host names): new machines, reports per second
- ``intake-update`` the same machines again with one software upgraded: matched and updated

CPU time per request (server, database, client) is reported like bench/run.py, whose helpers this
script reuses. Only talks to 127.0.0.1; every loop is bounded by a duration and a count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as base

ROOT = base.ROOT
CORPUS = Path(os.environ.get("PALIER_INVENTORY_CORPUS") or ROOT.parent / "shared" / "corpus" / "inventory")
TARGETS = {
    "asset-list": ("p95_ms", 50),
    "asset-list-q": ("p95_ms", 50),
    "asset-page": ("p95_ms", 60),
    "impact": ("p95_ms", 200),
    "intake": ("rps", 50),
    "intake-update": ("rps", 50),
}

# (type slug, share of the leftover assets)
FLEET = [("laptop", 0.45), ("desktop", 0.25), ("monitor", 0.2), ("printer", 0.05), ("mobile-device", 0.05)]


# --- seeding (runs inside Django: ``bench/assets.py --seed-inside N``) ---------------------------


def seed_inside(total: int, seed: int) -> dict[str, object]:
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from palier.assets.models import Asset, AssetEvent, AssetIdentifier, AssetType, Location, Relationship
    from palier.people.models import Organisation, User

    rng = random.Random(seed)
    types = {t.slug: t for t in AssetType.objects.all()}
    orgs = list(Organisation.objects.values_list("pk", flat=True)) or [None]
    people = list(User.objects.filter(role=User.Role.REQUESTER).values_list("pk", flat=True)[:5000]) or [None]
    now = timezone.now()
    site = Location.objects.get_or_create(name="Bench site", parent=None, defaults={"path": "Bench site"})[0]
    rooms = []
    for n in range(20):
        room, _ = Location.objects.get_or_create(
            name=f"Room {n:02d}",
            parent=site,
            defaults={"path": f"Bench site › Room {n:02d}", "depth": 1, "kind": "room"},
        )
        rooms.append(room.pk)

    # the chains: 1 service : 3 applications : 2 VMs each; VMs on servers; servers on switches
    services = max(10, total // 100)
    applications = services * 3
    vms = applications * 2
    servers = max(10, vms // 8)
    switches = max(5, servers // 10)
    routers = max(2, switches // 10)
    layout = [
        ("business-service", services, "SVC"),
        ("application", applications, "APP"),
        ("virtual-machine", vms, "VM"),
        ("server", servers, "SRV"),
        ("network-equipment", switches, "SW"),
        ("network-equipment", routers, "RT"),
    ]
    infra = sum(count for _slug, count, _p in layout)
    fleet_total = max(0, total - infra)
    rows: list[Asset] = []
    ranges: dict[str, tuple[int, int]] = {}

    def add(slug: str, prefix: str, n: int, **extra: object) -> None:
        name = f"{prefix.lower()}-{n:06d}"
        asset = Asset(
            tag=f"BN-{prefix}-{n:06d}",
            type=types[slug],
            name=name,
            serial=f"{prefix}{n:08d}" if slug not in ("business-service", "application") else "",
            manufacturer=rng.choice(["Dell", "HP", "Lenovo", "Cisco", "Apple"]) if slug != "business-service" else "",
            model=f"Model {rng.randint(1, 40)}",
            status=Asset.Status.DEPLOYED,
            organisation_id=rng.choice(orgs),
            location_id=rng.choice(rooms),
            created_at=now,
            updated_at=now,
            criticality=rng.choice(["low", "medium", "high", "critical"]) if slug == "business-service" else "",
            **extra,
        )
        asset.refresh_search_text()
        rows.append(asset)

    for slug, count, prefix in layout:
        for n in range(count):
            add(slug, prefix, n)
    for slug, share in FLEET:
        for n in range(int(fleet_total * share)):
            add(slug, slug[:3].upper(), n, assigned_to_id=rng.choice(people))
    with transaction.atomic():
        Asset.objects.bulk_create(rows, batch_size=5000)
    ids = dict(Asset.objects.filter(tag__startswith="BN-").values_list("tag", "pk"))
    for _slug, count, prefix in layout:
        ranges[prefix] = (0, count)

    def pk(prefix: str, n: int) -> int:
        return ids[f"BN-{prefix}-{n:06d}"]

    links = chains(pk, services, applications, vms, servers, switches, routers)
    identifiers = [
        AssetIdentifier(asset_id=asset_id, kind="serial", value=tag.replace("BN-", "S-"))
        for tag, asset_id in ids.items()
        if not tag.startswith(("BN-SVC", "BN-APP"))
    ]
    events = [
        AssetEvent(asset_id=asset_id, kind="created", data={"status": "deployed"}, at=now) for asset_id in ids.values()
    ]
    with transaction.atomic():
        Relationship.objects.bulk_create(links, batch_size=5000)
        AssetIdentifier.objects.bulk_create(identifiers, batch_size=5000)
        AssetEvent.objects.bulk_create(events, batch_size=5000)
    return {
        "assets": len(ids),
        "relationships": len(links),
        "services": [pk("SVC", s) for s in range(min(services, 500))],
        "sample": rng.sample(list(ids.values()), min(2000, len(ids))),
    }


def chains(
    pk: Callable[[str, int], int], services: int, applications: int, vms: int, servers: int, switches: int, routers: int
) -> list[Any]:
    """service → 3 applications → 2 VMs each → a server → an access switch → a core router."""
    from palier.assets.models import Relationship

    links: list[Relationship] = []
    for s in range(services):
        for k in range(3):
            links.append(Relationship(source_id=pk("SVC", s), target_id=pk("APP", s * 3 + k), kind="depends_on"))
    for a in range(applications):
        for k in range(2):
            links.append(Relationship(source_id=pk("APP", a), target_id=pk("VM", a * 2 + k), kind="runs_on"))
    for v in range(vms):
        links.append(Relationship(source_id=pk("VM", v), target_id=pk("SRV", v % servers), kind="hosted_on"))
    for s in range(servers):
        links.append(Relationship(source_id=pk("SRV", s), target_id=pk("SW", s % switches), kind="connects_to"))
    for w in range(switches):
        links.append(Relationship(source_id=pk("SW", w), target_id=pk("RT", w % routers), kind="connects_to"))
    return links


# --- reports ----------------------------------------------------------------------------------------


def computer_reports(count: int, *, seed: int) -> list[bytes]:
    """Distinct full computer reports from computer_1.json: new serial, UUID, MACs, host name."""
    template = json.loads((CORPUS / "examples" / "computer_1.json").read_text(encoding="utf-8"))
    rng = random.Random(seed)
    out = []
    for n in range(count):
        report = json.loads(json.dumps(template))
        content = report["content"]
        content["hardware"]["name"] = f"bench-pc-{n:06d}"
        content["hardware"]["uuid"] = f"{rng.getrandbits(128):032x}"
        content["bios"]["ssn"] = f"BENCH{n:08d}"
        for card in content.get("networks", []):
            if card.get("mac") and card["mac"] != "00:00:00:00:00:00":
                card["mac"] = ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
        report["deviceid"] = f"bench-pc-{n:06d}-2026-01-01-00-00-00"
        out.append(json.dumps(report).encode())
    return out


def upgraded(reports: list[bytes]) -> Callable[[int], bytes]:
    """Request i: machine i mod n reports again with its first software title at version i: each
    report is distinct (no duplicate short-cut) and changes one installation."""
    templates = []
    for body in reports:
        report = json.loads(body)
        report["content"]["softwares"][0]["version"] = "@@VERSION@@"
        templates.append(json.dumps(report).encode())
    return lambda i: templates[i % len(templates)].replace(b"@@VERSION@@", f"9.{i}".encode())


# --- main ---------------------------------------------------------------------------------------


def shell(env: dict[str, str], code: str) -> str:
    return base.palier(env, "shell", "-c", code, quiet=True).strip().splitlines()[-1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--assets", type=int, default=100_000, help="assets to seed (default 100,000)")
    p.add_argument("--tickets", type=int, default=2_000, help="demo tickets (default 2,000: the people matter here)")
    p.add_argument("--database-url", default="", help="a PostgreSQL server URL; a fresh database is created")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    p.add_argument("--seconds", type=float, default=20, help="duration of each scenario (default 20)")
    p.add_argument("--max-requests", type=int, default=3_000, help="request cap per scenario (default 3000)")
    p.add_argument("--concurrency", type=int, default=2, help="client threads for pages (default 2)")
    p.add_argument("--intake-concurrency", type=int, default=4, help="client threads posting reports (default 4)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--only", default="", help="comma-separated scenarios; default all")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--seed-inside", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def page_requests(data: dict[str, object], impact_path: str) -> dict[str, base.Request]:
    services = list(data["services"])  # type: ignore[call-overload]
    sample = list(data["sample"])  # type: ignore[call-overload]
    words = ["laptop", "srv-0001", "dell", "vm-00012", "room"]

    def listing(c: base.LeanClient, i: int) -> base.Answer:
        return c.get("/agent/assets/")

    def listing_q(c: base.LeanClient, i: int) -> base.Answer:
        return c.get("/agent/assets/", params={"q": words[i % len(words)]})

    def page(c: base.LeanClient, i: int) -> base.Answer:
        return c.get(f"/agent/assets/{sample[i % len(sample)]}/")

    def impact(c: base.LeanClient, i: int) -> base.Answer:
        return c.get(
            impact_path.replace("999999999", str(services[i % len(services)])), {"direction": "down", "depth": 5}
        )

    scenarios: dict[str, base.Request] = {"asset-list": listing, "asset-list-q": listing_q, "asset-page": page}
    if impact_path:
        scenarios["impact"] = impact
    return scenarios


def bench(args: argparse.Namespace, env: dict[str, str], run: base.Run) -> None:
    base.palier(env, "migrate", "--no-input", "-v0")
    t0 = time.perf_counter()
    base.palier(env, "demo", "--tickets", str(args.tickets), "--seed", str(args.seed))
    proc = subprocess.run(
        [sys.executable, __file__, "--seed-inside", str(args.assets), "--seed", str(args.seed)],
        env={**env, "DJANGO_SETTINGS_MODULE": "palier.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("seeding the assets failed")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    run.seed_seconds = round(time.perf_counter() - t0, 1)
    run.tickets = 0
    run.notes.append(f"{data['assets']:,} assets, {data['relationships']:,} relationships (bench/assets.py)")
    analyze = "VACUUM ANALYZE" if env.get("DATABASE_URL") else "ANALYZE"
    base.palier(env, "shell", "-c", f"from django.db import connection; connection.cursor().execute('{analyze}')")
    impact_path = shell(
        env,
        "from django.urls import reverse, NoReverseMatch\n"
        "try: print(reverse('assets:impact', args=[999999999]))\n"
        "except NoReverseMatch: print('')",
    ).strip()
    if not impact_path.startswith("/"):
        impact_path = ""
        run.notes.append("impact: no assets:impact page in this build; scenario skipped")
    secret = shell(
        env,
        "from palier.assets.inventory.tokens import create_token; print(create_token(name='bench', by=None).secret)",
    )
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    run.server = f"gunicorn, {args.workers} workers x {args.threads} threads"
    with base.server(env, base.free_port(), args.workers, args.threads) as url:
        cookie: dict[str, str] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                cookie = {"Cookie": base.sign_in(url, base.AGENT)}
                break
            except (SystemExit, OSError, base.httpx.HTTPError):
                time.sleep(0.5)
        for name, request in page_requests(data, impact_path).items():
            if wanted and name not in wanted:
                continue
            measure(run, name, url, cookie, request, args.concurrency, args)
        reports = computer_reports(args.max_requests + 100, seed=args.seed)
        headers = {"Authorization": f"Bearer {secret}"}

        def post(bodies: list[bytes] | Callable[[int], bytes]) -> base.Request:
            def body(i: int) -> bytes:
                return bodies(i) if callable(bodies) else bodies[i % len(bodies)]

            return lambda c, i: c._send("POST", "/inventory/", body(i), {"Content-Type": "application/json"})

        if not wanted or "intake" in wanted:
            warm = computer_reports(20, seed=args.seed + 1)
            base.measure("warm", url, headers, post(warm), concurrency=2, seconds=5, max_requests=20)
            measure(run, "intake", url, headers, post(reports), args.intake_concurrency, args, warm_up=False)
            if not wanted or "intake-update" in wanted:
                done = reports[: max(1, run.results[-1].requests)]
                measure(
                    run,
                    "intake-update",
                    url,
                    headers,
                    post(upgraded(done)),
                    args.intake_concurrency,
                    args,
                    warm_up=False,
                )


def measure(
    run: base.Run,
    name: str,
    url: str,
    headers: dict[str, str],
    request: base.Request,
    concurrency: int,
    args: argparse.Namespace,
    *,
    warm_up: bool = True,
) -> None:
    if warm_up:
        base.measure(name, url, headers, request, concurrency=concurrency, seconds=2, max_requests=30)
    load = os.getloadavg()[0]
    result = base.measure(
        name, url, headers, request, concurrency=concurrency, seconds=args.seconds, max_requests=args.max_requests
    )
    result.load_before = round(load, 2)
    if name in TARGETS:
        metric, limit = TARGETS[name]
        value = getattr(result, metric)
        result.met = value >= limit if metric == "rps" else value <= limit
        result.target = f"{metric.replace('_ms', '')} {'≥' if metric == 'rps' else '≤'} {limit}"
    run.results.append(result)
    sys.stderr.write(f"  {name}: p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, {result.rps} req/s\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed_inside:
        print(json.dumps(seed_inside(args.seed_inside, args.seed)))
        return 0
    run = base.Run(
        datetime.now(UTC).isoformat(timespec="seconds"),
        0,
        "postgresql" if args.database_url else "sqlite",
        base.machine(),
    )
    data_dir = Path(tempfile.mkdtemp(prefix="palier-bench-assets-"))
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    with base.database(args.database_url, keep=args.keep, reuse=False) as url:
        env = {
            **os.environ,
            "PALIER_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # this tree's code, not the one the shared virtualenv's ``palier`` was installed from
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")])),
        }
        if url:
            env["DATABASE_URL"] = url
        else:
            env.pop("DATABASE_URL", None)
        try:
            bench(args, env, run)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    print(base.table(run).replace(f"{run.tickets:,} tickets", f"{args.assets:,} assets"))
    for note in run.notes:
        print(note)
    base.RESULTS.mkdir(exist_ok=True)
    out = base.RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-assets-{run.database}-{args.assets}.json"
    out.write_text(json.dumps(asdict(run), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(r.errors == 0 for r in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
