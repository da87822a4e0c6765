"""Regenerate docs/screenshots/*.png from demo data, in French and English.

Usage: .venv/bin/python scripts/screenshots.py [--tickets 2000] [--only-english]

Seeds a throw-away SQLite database with ``palier demo``, serves it with gunicorn on a free
127.0.0.1 port, signs in as the demo personas with Debian's chromium (Playwright) and saves one
picture per page; the asset page, the impact view, a problem's page and the change calendar are
shot in English only (``asset-page.png``, ``impact-view.png``, ``problem-page.png``,
``change-calendar.png``), with a few assets seeded when the demo has none.
Nothing is downloaded; the server and the data folder are removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
PASSWORD = "palier-demo"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# (file name, persona, path or callable(page) -> path, viewport width)
PAGES = [
    ("login", None, "/accounts/login/", 1280),
    ("portal-home", "requester", "/portal/", 1280),
    ("portal-new-request", "requester", "/portal/new/", 1280),
    ("portal-my-requests", "requester", "/portal/requests/", 1280),
    ("portal-request", "requester", "first:/portal/requests/", 1280),
    ("portal-phone", "requester", "/portal/", 390),
    ("agent-queue", "agent", "/agent/", 1440),
    ("agent-ticket", "agent", "first:/agent/?assignee=me", 1440),
    ("reports-dashboard", "manager", "/agent/reports/", 1440),
    ("reports-me", "agent", "/agent/reports/me/", 1440),
    ("admin-groups", "admin", "/agent/admin/groups/", 1280),
]
# pages in English only under a plain name (docs/assets.md, docs/problems.md, docs/changes.md), shot
# whole; ``asset:page`` and ``asset:impact`` are the ids ``ASSET_SEED`` prints
ENGLISH_PAGES = [
    ("asset-page", "admin", "asset:page", 1440),
    ("impact-view", "admin", "asset:impact", 1440),
    ("problem-page", "manager", "first:/agent/problems/?status=known_error", 1440),
    ("change-calendar", "manager", "/agent/changes/calendar/", 1440),
]

# A few assets for the asset pages when the demo data has no relationships yet: a payroll chain
# (service → application → virtual machines → host, and a database), and the requester persona's
# laptop with some of their tickets and software. Prints "ASSETS <laptop id> <host id>".
ASSET_SEED = """
import datetime as dt
from django.utils import timezone
from palier.assets import services
from palier.assets.models import Asset, AssetType, Installation, Relationship
from palier.assets.services import locations
from palier.people.models import User
from palier.tickets.models import Ticket

admin = User.objects.get(email="admin@demo.palier.test")
person = User.objects.get(email="requester@demo.palier.test")
T = {t.slug: t for t in AssetType.objects.all()}
if not Relationship.objects.exists():
    site = locations.create_location(by=admin, name="Lyon", kind="site")
    room = locations.create_location(by=admin, name="Salle serveurs", kind="room", parent=site)
    def make(tag, slug, name, **values):
        return services.create_asset(admin, {"tag": tag, "type": T[slug], "name": name, **values}, status="deployed")
    host = make("ESX-01", "server", "esx-lyon-01", location=room, manufacturer="Dell", model="PowerEdge R750")
    vm1 = make("VM-0012", "virtual-machine", "vm-payroll-app", location=room)
    vm2 = make("VM-0013", "virtual-machine", "vm-payroll-db", location=room)
    vm3 = make("VM-0020", "virtual-machine", "vm-intranet", location=room)
    db = make("APP-0031", "application", "PostgreSQL payroll")
    app = make("APP-0030", "application", "Payroll (web)")
    wiki = make("APP-0040", "application", "Intranet wiki")
    pay = make("SVC-PAY", "business-service", "Payroll", criticality="critical")
    hr = make("SVC-HR", "business-service", "HR self-service", criticality="high")
    intranet = make("SVC-INTRA", "business-service", "Intranet", criticality="medium")
    for source, kind, target in [
        (vm1, "hosted_on", host), (vm2, "hosted_on", host), (vm3, "hosted_on", host),
        (app, "runs_on", vm1), (db, "runs_on", vm2), (app, "depends_on", db), (wiki, "runs_on", vm3),
        (pay, "depends_on", app), (hr, "depends_on", app), (intranet, "depends_on", wiki),
    ]:
        services.relate(admin, source, kind, target)
    soon = timezone.localdate() + dt.timedelta(days=21)
    laptop = make(
        "LT-0417", "laptop", "ThinkPad T14 " + person.full_name.split()[0], assigned_to=person, location=site,
        serial="PF3KX9Q2", manufacturer="Lenovo", model="ThinkPad T14 Gen 4", warranty_end=soon,
        purchase_date=soon - dt.timedelta(days=3 * 365), attributes={"os": "Windows 11 Pro", "cpu": "Intel Core i7-1365U", "memory_mb": 32768},
    )
    services.relate(admin, laptop, "connects_to", vm3)
    for ticket in Ticket.objects.filter(requester=person).order_by("-created_at")[:3]:
        services.link_ticket(admin, ticket, laptop)
    Installation.objects.bulk_create(
        Installation(asset=laptop, name=name, publisher=publisher, version=version, product=name.lower())
        for name, publisher, version in [
            ("Microsoft 365 Apps", "Microsoft", "16.0.17328"), ("Mozilla Firefox", "Mozilla", "128.4.0"),
            ("7-Zip", "Igor Pavlov", "24.08"), ("Zoom Workplace", "Zoom", "6.2.5"), ("VLC media player", "VideoLAN", "3.0.21"),
        ]
    )
from django.db.models import Count
hub = Asset.objects.filter(type__family="hardware").annotate(n=Count("needed_by")).order_by("-n", "id").first()
page = Asset.objects.filter(assigned_to=person).order_by("-id").first() or hub
print("ASSETS", page.pk, hub.pk)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _palier(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "palier"), *args], env=env, cwd=ROOT, check=True)  # noqa: S603


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server did not answer at {url}")


def _sign_in(page: Page, base: str, persona: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=username]").fill(f"{persona}@demo.palier.test")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action$='/accounts/login/'] button[type=submit]").click()


def _resolve(page: Page, base: str, path: str, assets: dict[str, int] | None = None) -> str:
    """``first:/list/`` opens the list and follows its first ticket link; ``asset:page`` and
    ``asset:impact`` are the seeded asset's page and the hub's impact view."""
    if path == "asset:page" and assets:
        return f"{base}/agent/assets/{assets['page']}/"
    if path == "asset:impact" and assets:
        return f"{base}/agent/assets/{assets['impact']}/impact/?direction=up&depth=5"
    if not path.startswith("first:"):
        return base + path
    page.goto(base + path.removeprefix("first:"))
    # the agent queue is a table (#queue-table); the portal's "My requests" is a list of cards, where
    # a request waiting for the requester's answer (highlighted) shows a conversation
    for selector in (
        "#queue-table td a[href*='/tickets/']",
        "#problem-table a[href*='/agent/problems/']",
        "#results .list-group-item-warning a.request-subject",
        "#results .request-list a.request-subject",
    ):
        link = page.locator(selector).first
        if link.count():
            return base + (link.get_attribute("href") or "/")
    raise SystemExit(f"no ticket link on {path}")


def shoot(base: str, language: str, assets: dict[str, int] | None = None, *, only_english: bool = False) -> None:
    pages = [] if only_english else [(f"{name}.{language}", *rest) for name, *rest in PAGES]
    if language == "en" and assets:
        pages += ENGLISH_PAGES
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, persona, path, width in pages:
            context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            if persona:
                _sign_in(page, base, persona)
            target = _resolve(page, base, path, assets)
            response = page.goto(target)
            # a changed path or a failed sign-in must not leave a login or error page in the docs
            if response is None or response.status != 200 or (persona and "/accounts/login/" in page.url):
                raise SystemExit(f"{name}: {target} answered {response and response.status} at {page.url}")
            # the asset pages are shot whole: what matters is below the fold too
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=(name, persona, path, width) in ENGLISH_PAGES)
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)  # enough for the requester persona to have open requests
    parser.add_argument(
        "--only-english", action="store_true", help="only the English-only pages (assets, problems, changes)"
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        # PYTHONPATH: serve this tree's code, whichever tree the virtualenv was installed from
        env = {
            **os.environ,
            "PALIER_DATA_DIR": data,
            "DATABASE_URL": f"sqlite:///{data}/palier.sqlite3",
            "PYTHONPATH": str(ROOT),
        }
        _palier(env, "migrate", "-v0")
        _palier(env, "demo", "--tickets", str(args.tickets), "--seed", "7", "-v0")
        # the demo personas keep the browser's language so both catalogs can be shown
        _palier(env, "shell", "-c", "from palier.people.models import User; User.objects.update(language='')")
        seeded = subprocess.run(  # noqa: S603
            [str(BIN / "palier"), "shell", "-c", ASSET_SEED],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assets = {"page": int(seeded[-2]), "impact": int(seeded[-1])}
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603
            [str(BIN / "gunicorn"), "palier.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            env=env,
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base + "/accounts/login/")
            for language in ("fr", "en"):
                if not (args.only_english and language == "fr"):
                    shoot(base, language, assets, only_english=args.only_english)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"screenshots written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
