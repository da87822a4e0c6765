"""Regenerate docs/screenshots/*.png from demo data, in French and English.

Usage: .venv/bin/python scripts/screenshots.py [--tickets 2000]

Seeds a throw-away SQLite database with ``palier demo``, serves it with gunicorn on a free
127.0.0.1 port, signs in as the demo personas with Debian's chromium (Playwright) and saves one
picture per page. Nothing is downloaded; the server and the data folder are removed afterwards.
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


def _resolve(page: Page, base: str, path: str) -> str:
    """``first:/list/`` opens the list and follows its first ticket link."""
    if not path.startswith("first:"):
        return base + path
    page.goto(base + path.removeprefix("first:"))
    # the agent queue is a table (#queue-table); the portal's "My requests" is a list of cards, where
    # a request waiting for the requester's answer (highlighted) shows a conversation
    for selector in (
        "#queue-table td a[href*='/tickets/']",
        "#results .list-group-item-warning a.request-subject",
        "#results .request-list a.request-subject",
    ):
        link = page.locator(selector).first
        if link.count():
            return base + (link.get_attribute("href") or "/")
    raise SystemExit(f"no ticket link on {path}")


def shoot(base: str, language: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, persona, path, width in PAGES:
            context = browser.new_context(viewport={"width": width, "height": 900}, locale=language)
            context.add_cookies([{"name": "django_language", "value": language, "url": base}])
            page = context.new_page()
            if persona:
                _sign_in(page, base, persona)
            target = _resolve(page, base, path)
            response = page.goto(target)
            # a changed path or a failed sign-in must not leave a login or error page in the docs
            if response is None or response.status != 200 or (persona and "/accounts/login/" in page.url):
                raise SystemExit(f"{name}: {target} answered {response and response.status} at {page.url}")
            page.screenshot(path=str(OUT / f"{name}.{language}.png"))
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)  # enough for the requester persona to have open requests
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "PALIER_DATA_DIR": data, "DATABASE_URL": f"sqlite:///{data}/palier.sqlite3"}
        _palier(env, "migrate", "-v0")
        _palier(env, "demo", "--tickets", str(args.tickets), "--seed", "7", "-v0")
        # the demo personas keep the browser's language so both catalogs can be shown
        _palier(env, "shell", "-c", "from palier.people.models import User; User.objects.update(language='')")
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
                shoot(base, language)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"screenshots written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
