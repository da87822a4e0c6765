"""The automation forms in Debian's chromium (Playwright, as in e2e/): an administrator adds and
removes rule rows without saving, then saves; and finds a recurring ticket's requester by typing.
Skipped when chromium is missing."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from palier.automation.models import RecurringTicket, Rule
from palier.people import services as people
from palier.people.models import Organisation, User

# Playwright's sync API runs an event loop in the test thread (see e2e/conftest.py).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# a browser test of the rule form, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = [pytest.mark.browser, pytest.mark.engine_independent]

CHROMIUM = os.environ.get("PALIER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def admin_page(transactional_db: None, live_server: Any, page: Page) -> Page:
    people.create_user(
        email="ines@desk.test", full_name="Inès Admin", role=User.Role.ADMIN, password="pw-ines-123!", language="en"
    )
    expect.set_options(timeout=15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill("ines@desk.test")
    page.locator("input[name=password]").fill("pw-ines-123!")
    with page.expect_navigation():
        page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.base_url = live_server.url  # type: ignore[attr-defined]
    return page


def test_rows_are_added_and_removed_without_saving(admin_page: Page) -> None:
    page = admin_page
    page.goto(f"{page.base_url}/agent/automation/rules/new/")  # type: ignore[attr-defined]
    with page.expect_navigation():
        page.locator("a[data-subject=ticket]").click()  # the subject first
    page.locator("#id_name").fill("Printers")
    conditions = page.locator("[data-condition-row]")
    expect(conditions).to_have_count(2)
    expect(page.locator("[data-row-delete]").first).to_be_hidden()  # "Remove this row" stands for it

    page.get_by_role("button", name="Add a condition").click()
    expect(conditions).to_have_count(3)
    expect(page.locator("#id_c-2-part")).to_be_focused()
    page.locator("#id_c-0-field").select_option("subject")
    page.locator("#id_c-0-op").select_option("contains")
    page.locator("#id_c-0-text").fill("printer")
    page.locator("#id_c-1-field").select_option("priority")  # a wrong row, removed before saving
    page.locator("#id_c-1-choice").select_option("status:new")
    conditions.nth(1).get_by_role("button", name="Remove this row").click()
    expect(conditions.nth(1)).to_be_hidden()
    page.locator("#id_c-2-field").select_option("priority")
    page.locator("#id_c-2-op").select_option("lte")
    page.locator("#id_c-2-choice").select_option("priority:2")

    page.get_by_role("button", name="Add an action").click()
    expect(page.locator("[data-action-row]")).to_have_count(2)
    page.locator("#id_a-0-type").select_option("add_tags")
    page.locator("#id_a-0-value").fill("printer")
    page.locator("#id_a-1-type").select_option("close")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#messages .alert")).to_contain_text("The rule “Printers” is created.")
    rule = Rule.objects.get(name="Printers")
    assert rule.conditions == {
        "all": [
            {"field": "subject", "op": "contains", "value": "printer"},
            {"field": "priority", "op": "lte", "value": 2},
        ],
        "any": [],
    }
    assert [action["type"] for action in rule.actions] == ["add_tags", "close"]


def test_the_requester_is_found_by_typing(admin_page: Page) -> None:
    page = admin_page
    acme = Organisation.objects.create(name="Acme")
    alice = people.create_user(email="alice@acme.test", full_name="Alice Martin", organisation=acme, password=None)
    bob = people.create_user(email="bob@acme.test", full_name="Bob Durand", organisation=acme, password=None)
    User.objects.bulk_create(User(email=f"crowd{n}@acme.test", full_name=f"Crowd {n}") for n in range(50))

    page.goto(f"{page.base_url}/agent/automation/recurring/")  # type: ignore[attr-defined]
    page.locator("#id_name").fill("Backups")
    page.locator("#id_schedule").fill("0 8 * * 1")
    page.locator("#id_subject").fill("Check the backups")
    box = page.get_by_role("searchbox", name="Requester")
    box.fill("alic")
    box.press("Enter")  # searches; does not send the form
    found = page.get_by_label("Alice Martin <alice@acme.test> · Acme")
    found.check()
    expect(page.locator("#id_requester_chosen")).to_contain_text("Alice Martin")
    expect(page.locator("#id_requester_results")).to_be_empty()
    assert not RecurringTicket.objects.exists()
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#messages .alert")).to_contain_text("The recurring ticket “Backups” is created.")
    row = RecurringTicket.objects.get()
    assert row.requester == alice

    page.locator("#recurring").get_by_role("link", name="Backups").click()
    expect(page.get_by_label("Alice Martin <alice@acme.test>")).to_be_checked()
    page.get_by_role("searchbox", name="Requester").fill("durand")
    page.get_by_label("Bob Durand <bob@acme.test> · Acme").check()
    expect(page.locator("#id_requester_chosen")).not_to_contain_text("Alice")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#messages .alert")).to_contain_text("is saved")
    row.refresh_from_db()
    assert row.requester == bob
