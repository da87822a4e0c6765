"""Browser tests: Debian's chromium driven by Playwright against Django's live server.

Never a downloaded browser: the executable is /usr/bin/chromium (``.ci/run`` installs the
``chromium`` package when it is missing), or ``PALIER_CHROMIUM``.

Every page of every journey runs under Palier's Content-Security-Policy: a violation
(``securitypolicyviolation`` event), an error written to the console or an uncaught script error
fails the test that caused it (``_browser_errors``), listing what happened and where.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, WebError, expect

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


def _language_for_this_run(journey: str) -> str:
    """The one language a bilingual journey runs in, on this database engine.

    Each journey runs in French on one engine and in English on the other (which one depends on
    its name), so ``.ci/run``, which runs both engines, covers every journey in both languages at
    half the browser time of each pass. ``PALIER_TESTS_ALL=1`` runs both everywhere."""
    postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    first = sum(journey.encode()) % 2 == 0
    return "fr" if first != postgres else "en"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    both = os.environ.get("PALIER_TESTS_ALL") == "1"
    kept, dropped = [], []
    for item in items:
        if "/e2e/" not in str(item.fspath):
            kept.append(item)
            continue
        item.add_marker(pytest.mark.browser)
        language = getattr(item, "callspec", None) and item.callspec.params.get("language")
        if both or not language or language == _language_for_this_run(item.originalname):
            kept.append(item)
        else:
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


# In every page, before its own scripts: report each CSP violation on the console, where the
# listener below sees it (the event alone never reaches Playwright).
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.effectiveDirective} refused ${e.blockedURI || "inline code"} `
    + `in ${e.sourceFile || e.documentURI}:${e.lineNumber} (${(e.sample || "").slice(0, 80)})`);
}, true);
"""
# the browser's note about an HTTP error answer the test asked for (a 400 of a refused form, a 404)
_HTTP_ERROR_NOTE = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")


def _watch(context: BrowserContext, found: list[str]) -> BrowserContext:
    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not _HTTP_ERROR_NOTE.match(message.text):
            found.append(f"console error: {message.text} [{message.location.get('url', '')}]")

    def on_error(error: WebError) -> None:
        found.append(f"script error: {error.error}")

    context.add_init_script(_REPORT_VIOLATIONS)
    context.on("console", on_console)
    context.on("weberror", on_error)
    return context


def _without_aborts(found: list[str]) -> list[str]:
    """The errors without the requests the browser gave up: htmx logs ``sendAbort``, then a failed
    ``afterRequest``, for a request still running when the page navigates (a draft being saved as
    the reply is sent). A failed request the server answered is reported on its own ("Failed to
    load resource"), so one ``afterRequest`` per abort is dropped with it, no more."""
    aborts = sum(1 for f in found if f.startswith("console error: htmx:sendAbort"))
    out = []
    for f in found:
        if f.startswith("console error: htmx:sendAbort"):
            continue
        if aborts and f.startswith("console error: htmx:afterRequest"):
            aborts -= 1
            continue
        out.append(f)
    return out


@pytest.fixture
def _browser_errors() -> Iterator[list[str]]:
    found: list[str] = []
    yield found
    errors = _without_aborts(found)
    assert not errors, "the browser reported errors:\n  " + "\n  ".join(errors)


@pytest.fixture
def context(context: BrowserContext, _browser_errors: list[str]) -> BrowserContext:
    """pytest-playwright's context (behind ``page``), watched for CSP violations and errors."""
    return _watch(context, _browser_errors)


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
def open_page(browser: Browser, _browser_errors: list[str]) -> Iterator[Callable[..., Page]]:
    """A page in a browser context of its own (another person, or other browser settings):
    ``open_page(locale="fr")``. The contexts are closed after the test."""
    contexts: list[BrowserContext] = []

    def _open(**context_args: Any) -> Page:
        context = _watch(browser.new_context(**context_args), _browser_errors)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()
