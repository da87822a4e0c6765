"""Two-step sign-in in a real browser: an agent sets up an authenticator app from the secret the
page shows, signs out, signs in with the password and a code computed here, then with a recovery
code (remembering the browser), and registers a security key on Chromium's virtual
authenticator (DevTools' WebAuthn domain) and signs in with it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from palier.identity.mfa import codes
from palier.people import services as people
from palier.people.models import User

# a sign-in journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

EMAIL, PASSWORD = "lea@desk.test", "pw-lea-123!"
SHOTS = os.environ.get("PALIER_SCREENSHOTS")  # set to write the documentation's pictures


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def _sign_out(page: Page) -> None:
    page.locator("details.user-menu summary").click()
    with page.expect_navigation():
        page.locator("details.user-menu form button[type=submit]").click()


def _password(page: Page, url: Callable[[str], str]) -> None:
    page.goto(url("/accounts/login/"))
    page.locator("input[name=username]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page).to_have_url(url("/accounts/2fa/verify/"))  # half signed in: the second step


def test_enrol_totp_then_sign_in_with_a_code_a_recovery_code_and_a_security_key(
    transactional_db: None, url: Callable[[str], str], login: Callable[..., Page]
) -> None:
    people.create_user(email=EMAIL, full_name="Léa L1", role=User.Role.AGENT, password=PASSWORD, language="en")
    page = login(EMAIL, PASSWORD)

    # set up the app: the secret is read from the page, as a person would type it in their app
    page.goto(url("/accounts/2fa/"))
    page.locator("a[href$='/accounts/2fa/totp/']").click()
    expect(page.locator("#totp-qr")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    _shot(page, "mfa-setup")
    page.locator("#id_code").fill(codes.code_at(secret, codes.current_step()))
    with page.expect_navigation():
        page.locator("form[action$='/totp/confirm/'] button[type=submit]").click()
    recovery = page.locator("#recovery-codes li").all_inner_texts()
    assert len(recovery) == 10
    page.locator("a[href$='/accounts/2fa/']").last.click()
    expect(page.locator("#totp-status .badge")).to_be_visible()

    # password, then a code: the next step's (the current one was used to confirm)
    _sign_out(page)
    _password(page, url)
    page.goto(url("/agent/"))
    expect(page).to_have_url(url("/accounts/2fa/verify/?next=/agent/"))
    _shot(page, "mfa-verify")
    page.locator("#id_code").fill(codes.code_at(secret, codes.current_step() + 1))
    with page.expect_navigation():
        page.locator("#code-form button[type=submit]").click()
    expect(page).to_have_url(url("/agent/"))

    # password, then a recovery code, remembering this browser
    _sign_out(page)
    _password(page, url)
    page.locator("#id_code").fill(recovery[0])
    page.locator("#id_remember").check()
    with page.expect_navigation():
        page.locator("#code-form button[type=submit]").click()
    expect(page.locator("#code-form")).to_have_count(0)
    page.goto(url("/accounts/2fa/"))
    expect(page.locator("#recovery-left")).to_contain_text("9")

    # a remembered browser is not asked again
    _sign_out(page)
    page.goto(url("/accounts/login/"))
    page.locator("input[name=username]").fill(EMAIL)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    expect(page.locator("#code-form")).to_have_count(0)

    # a security key, on Chromium's virtual authenticator
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": False,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page.goto(url("/accounts/2fa/"))
    page.locator("#key-name").fill("Desk key")
    with page.expect_navigation():
        page.locator("#key-register button[type=submit]").click()
    expect(page.locator("#security-keys")).to_contain_text("Desk key")
    _shot(page, "mfa-page")

    # the key's registration changed the factors: the remembered browser is forgotten
    _sign_out(page)
    _password(page, url)
    with page.expect_navigation():
        page.locator("#key-verify-button").click()
    expect(page.locator("#code-form")).to_have_count(0)
    page.goto(url("/agent/"))
    expect(page).to_have_url(url("/agent/"))
