"""An administrator connects a directory (a real slapd): creates it, tests it, reads a dry run,
syncs; then a directory person signs in with their directory login and password."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from palier.identity.tests.conftest import slapd, tree  # noqa: F401 (the session's slapd)
from palier.identity.tests.slapd import ADMIN_DN, ADMIN_PASSWORD, Person, Slapd, Tree
from palier.people import services as people
from palier.people.models import User

# a sign-in journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "images" / "identity"


def test_admin_connects_a_directory_and_its_people_sign_in(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    slapd: Slapd,  # noqa: F811
    tree: Tree,  # noqa: F811
) -> None:
    tree.add(Person(uid="ana", mail="ana@acme.test", name="Ana Lopez", password="ana-dir-pw-1", company="Acme"))
    people.create_user(
        email="root@desk.test", full_name="Root", role=User.Role.ADMIN, password="pw-root-1234!", language="en"
    )
    page = login("root@desk.test", "pw-root-1234!")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url("/agent/identity/ldap/"))
    page.locator("#id_name").fill("Corp directory")
    page.get_by_label("Identifier").fill("corp")
    page.get_by_label("Enabled").check()
    page.get_by_label("Directory address").fill(slapd.url)
    page.locator("#id_bind_dn").fill(ADMIN_DN)
    page.get_by_label("Service account password").fill(ADMIN_PASSWORD)
    page.get_by_label("Where people are (base DN)").fill(tree.base)
    page.get_by_label("Attributes").fill("subject = entryUUID")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#messages .alert")).to_contain_text("“Corp directory” is created")

    page.get_by_role("button", name="Test this provider").click()
    expect(page.locator("#checks")).to_contain_text("1 person found under")
    if os.environ.get("PALIER_SCREENSHOTS") == "1":  # docs/identity.md
        page.locator("section[aria-labelledby=actions-title]").screenshot(path=str(SHOTS / "ldap-test.png"))
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#messages .alert")).to_contain_text("Dry run: the changes below were not made.")
    expect(page.locator("#run")).to_contain_text("ana@acme.test")
    if os.environ.get("PALIER_SCREENSHOTS") == "1":
        page.locator("section[aria-labelledby=actions-title]").screenshot(path=str(SHOTS / "ldap-dry-run.png"))
    assert not User.objects.filter(email="ana@acme.test").exists()
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#messages .alert")).to_contain_text("The directory is synced.")

    other = open_page(locale="en-GB")
    other.goto(url("/accounts/login/"))
    other.get_by_label("Email address or directory login").fill("ana")
    other.get_by_label("Password").fill("ana-dir-pw-1")
    with other.expect_navigation():
        other.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(other.locator("input[name=password]")).to_have_count(0)
    assert User.objects.get(email="ana@acme.test").organisation.name == "Acme"
