"""Passwords: a person who forgot theirs asks for a link on the sign-in page, opens it from the
email in the outbox, chooses a new password, signs in with it (in two browsers), changes it on the
Security page, and the other browser is signed out."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from palier.notifications.models import OutgoingEmail
from palier.people import services as people

# a sign-in journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

LINK = re.compile(r"https?://[^/\s]+(/accounts/password/reset/[^/\s]+/[^/\s]+/)")
FIRST, SECOND = "Clementine-Voyage-81", "Harpsichord-Meadow-27"


def test_forgot_reset_sign_in_change_and_the_other_browser_is_signed_out(
    transactional_db: None,
    url: Callable[[str], str],
    page: Page,
    login: Callable[..., Page],
    open_page: Callable[..., Page],
) -> None:
    person = people.create_user(email="walk-in@desk.test", full_name="Walk In")  # from email: no password yet

    page.goto(url("/accounts/login/"))
    page.locator("#forgot-link").click()
    page.locator("input[name=email]").fill(person.email)
    page.locator("form[action$='/password/forgot/'] button[type=submit]").click()
    expect(page.locator("#reset-sent")).to_be_visible()

    row = OutgoingEmail.objects.get(recipient=person)
    found = LINK.search(row.text)
    assert found is not None, row.text
    page.goto(url(found.group(1)))
    expect(page).to_have_url(re.compile(r"/set-password/$"))  # the token left the address
    page.locator("input[name=new_password1]").fill(FIRST)
    page.locator("input[name=new_password2]").fill(FIRST)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("input[name=password]")).to_be_visible()  # back on the sign-in page

    login(person.email, FIRST)
    other = login(person.email, FIRST, target=open_page())

    page.goto(url("/accounts/profile/"))
    page.locator("#security-link").click()
    expect(page.locator("#sessions tbody tr")).to_have_count(2)
    page.locator("input[name=current_password]").fill(FIRST)
    page.locator("input[name=new_password1]").fill(SECOND)
    page.locator("input[name=new_password2]").fill(SECOND)
    page.locator("#password-form button[type=submit]").click()
    expect(page.locator("#messages .alert-success")).to_be_visible()
    expect(page.locator("#sessions tbody tr")).to_have_count(1)

    other.reload()
    expect(other.locator("input[name=password]")).to_be_visible()  # signed out there
    page.reload()
    expect(page.locator("#password-form")).to_be_visible()  # still signed in here
