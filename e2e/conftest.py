"""Browser tests: Debian's chromium driven by Playwright against Django's live server.

Never a downloaded browser: the executable is /usr/bin/chromium (``.ci/run`` installs the
``chromium`` package when it is missing), or ``PALIER_CHROMIUM``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make to
# build data happen outside it, so Django's async guard must be relaxed for these tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# CI machines have two cores shared with the database and the live server.
expect.set_options(timeout=15_000)

CHROMIUM = os.environ.get("PALIER_CHROMIUM", "/usr/bin/chromium")
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def login(live_server: object, page: Page) -> Callable[..., Page]:
    """Sign in through the login form and return the page."""

    def _login(email: str, password: str, *, target: Page | None = None) -> Page:
        p = target or page
        p.goto(f"{live_server.url}/accounts/login/")  # type: ignore[attr-defined]
        p.locator("input[name=username]").fill(email)
        p.locator("input[name=password]").fill(password)
        with p.expect_navigation():
            p.locator("form[action$='/accounts/login/'] button[type=submit]").click()
        expect(p.locator("input[name=password]")).to_have_count(0)
        return p

    return _login


@pytest.fixture
def url(live_server: Any) -> Callable[[str], str]:
    """The live server's address of a path: ``url("/portal/")``."""
    return lambda path: f"{live_server.url}{path}"


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """A page in a browser context of its own (another person, or other browser settings):
    ``open_page(locale="fr")``. The contexts are closed after the test."""
    contexts: list[BrowserContext] = []

    def _open(**context_args: Any) -> Page:
        context = browser.new_context(**context_args)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()
