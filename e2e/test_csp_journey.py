"""The Content-Security-Policy holds on every page: an administrator (who sees every agent,
administration and portal page) and a requester walk through all the pages Palier serves without
arguments, and a ticket's pages, and the browser reports no refused script or style and no error
(the watch of ``e2e/conftest.py``). The watch itself is shown to catch an injected inline script."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Page, expect

from palier.assets import services as asset_services
from palier.assets.tests.builders import make_asset
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

# pages that are not for people: sign-out, the language switch, Django's unused admin
SKIP = ("accounts/logout/", "i18n/", "django-admin/")


def _paths(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if "<" in route or route.startswith(SKIP) or "^" in route or "(" in route:
            continue
        if isinstance(entry, URLResolver):
            yield from _paths(entry.url_patterns, route)
        else:
            yield "/" + route


def _html_pages(user: User) -> list[str]:
    """Every argument-less page that answers this user with HTML (no download, no redirect)."""
    client = Client()
    client.force_login(user)
    pages = []
    for path in dict.fromkeys(_paths(get_resolver().url_patterns)):
        response = client.get(path)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            pages.append(path)
    return pages


HTMX_IDLE = "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"


def _tour(page: Page, url: Callable[[str], str], paths: list[str]) -> None:
    for path in paths:
        response = page.goto(url(path))
        assert response is not None and response.ok, path
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert "camera=()" in response.headers.get("permissions-policy", ""), path
        # the fragments a page loads after it (htmx marks an element .htmx-request meanwhile)
        page.wait_for_function(HTMX_IDLE)


@pytest.mark.engine_independent  # the pages' policy is the same on every database
def test_every_page_runs_under_the_policy_without_a_violation(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    admin_user: User,
    requester: User,
    agent: User,
) -> None:
    ticket = make_ticket(requester, subject="Écran noir au démarrage")
    laptop = make_asset("LT-0001", by=admin_user, assigned_to=requester)
    server = make_asset("SRV-01", by=admin_user, type="server", name="db-01")
    asset_services.relate(admin_user, laptop, "depends_on", server)
    asset_pages = [
        reverse("assets:detail", args=[laptop.pk]),
        reverse("assets:edit", args=[laptop.pk]),
        reverse("assets:impact", args=[server.pk]),
        reverse("assets:new") + "?type=laptop",
    ]
    admin_pages = _html_pages(admin_user)
    assert len(admin_pages) > 30 and "/agent/" in admin_pages and "/api/v1/docs" in admin_pages
    page = login(admin_user.email, "pw-ada-123!")
    _tour(page, url, [*admin_pages, reverse("agent:ticket-detail", args=[ticket.pk]), *asset_pages])

    requester_page = login(requester.email, "pw-alice-123!", target=open_page())
    _tour(requester_page, url, [*_html_pages(requester), reverse("portal:ticket-detail", args=[ticket.pk])])


def test_the_watch_catches_an_inline_script(
    transactional_db: None, url: Callable[[str], str], page: Page, _browser_errors: list[str]
) -> None:
    page.goto(url("/accounts/login/"))
    page.evaluate(
        """() => {
            const s = document.createElement("script");
            s.textContent = "document.title = 'injected'";
            document.body.append(s);
            const d = document.createElement("div");
            d.setAttribute("style", "color: red");
            document.body.append(d);
        }"""
    )
    expect(page.locator("div[style]")).to_have_count(1)
    page.wait_for_timeout(300)
    assert "injected" not in page.title()
    found = "\n".join(_browser_errors)
    assert "CSP violation: script-src" in found and "CSP violation: style-src" in found, found
    _browser_errors.clear()  # seen: this test's violations were the point


def test_what_left_the_attributes_still_works(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    admin_user: User,
    requester: User,
    triage: object,
) -> None:
    """The queue's idle refresh (a trigger filter before) and the dashboard's refused filters
    shown in place (an hx-on handler before) now live in agent.js."""
    page = login(admin_user.email, "pw-ada-123!")
    # the queue refreshes every 15 s: the browser's clock is moved on instead of waited for
    page.clock.install()
    page.goto(url(reverse("agent:ticket-list")))
    make_ticket(requester, subject="Scanner hors ligne")
    page.clock.run_for(16_000)
    expect(page.locator("#queue-table")).to_contain_text("Scanner hors ligne")
    # while a row is selected the table stays as it is
    page.locator('#queue-table input[name="tickets"]').first.check()
    make_ticket(requester, subject="Badge refusé au portique")
    page.clock.run_for(32_000)
    page.wait_for_load_state("networkidle")
    expect(page.locator("#queue-table")).not_to_contain_text("Badge refusé au portique")
    page.locator('#queue-table input[name="tickets"]').first.uncheck()
    page.locator("#global-search").focus()  # out of the table: the agent is not using it any more
    page.clock.run_for(16_000)
    expect(page.locator("#queue-table")).to_contain_text("Badge refusé au portique")

    page.goto(url(reverse("reports:team")))
    page.locator("#id_period").select_option("custom")
    page.locator("#id_since").fill("2026-05-10")
    page.locator("#id_until").fill("2026-05-01")
    page.locator("#report-filters button[type=submit]").click()
    expect(page.locator("#id_until-error")).to_be_visible()
