"""OpenID Connect single sign-on in a browser, against a real provider (the npm
``oidc-provider`` on 127.0.0.1): an administrator adds the provider on its admin page, tests it
and switches it on; a new person clicks its button on the sign-in page, signs in and consents at
the provider, and comes back signed in with a new account in the organisation of their email
domain and the role their group maps to; signing out ends the provider's session too.

With ``PALIER_SCREENSHOTS=<folder>`` it also saves the pages shown in docs/identity.md."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from palier.identity.models import ExternalIdentity, Provider
from palier.people.models import Organisation, SupportGroup, User
from testsupport.oidc_provider import PASSWORD, OidcServer

# a sign-in journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

SHOTS = os.environ.get("PALIER_SCREENSHOTS", "")


def _shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"))


def test_an_admin_adds_a_provider_and_a_new_person_signs_in_with_it(
    transactional_db: None,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    oidc_server: OidcServer,
    admin_user: User,
    org: Organisation,
    l2: SupportGroup,
    settings: object,
) -> None:
    settings.PALIER_BASE_URL = url("")  # type: ignore[attr-defined]
    client_id, secret = oidc_server.register_client(url("/accounts/oidc/corp/callback/"), url("/accounts/login/"))
    oidc_server.add_account(
        "zoe", email="zoe.durand@acme.test", email_verified=True, name="Zoé Durand", locale="fr-FR",
        groups=["desk-agents"],
    )  # fmt: skip

    # the administrator adds the provider, tests it, switches it on
    admin = login(admin_user.email, "pw-ada-123!")
    admin.set_viewport_size({"width": 1280, "height": 900})
    admin.goto(url("/agent/identity/oidc/"))
    _shot(admin, "oidc-add")
    for field, value in {
        "name": "Corp",
        "slug": "corp",
        "label_en": "Corp account",
        "label_fr": "Compte Corp",
        "issuer": oidc_server.issuer,
        "client_id": client_id,
        "client_secret": secret,
        "claim_groups": "groups",
        "scopes": "openid email profile groups",
        "role_map": "desk-agents = agent",
        "group_map": f"desk-agents = {l2.name}",
    }.items():
        admin.locator(f"#id_{field}").fill(value)
    admin.locator("#id_sync_groups").check()
    admin.locator(".card form button[type=submit]").click()
    expect(admin.locator("#messages .alert")).to_contain_text("Corp")
    expect(admin.locator("#redirect-uri")).to_have_text(url("/accounts/oidc/corp/callback/"))
    admin.locator("form[action$='/test/'] button").click()
    expect(admin.locator("#checks .list-group-item-success")).to_have_count(8)
    _shot(admin, "oidc-test")
    admin.locator("form[action$='/enabled/'] button").click()
    expect(admin.locator("#messages .alert")).to_contain_text("Corp")

    # a new person signs in with the provider's button
    page = open_page(locale="en-GB")
    page.goto(url("/accounts/login/"))
    _shot(page, "sign-in-buttons")
    page.get_by_role("link", name="Corp account").click()
    expect(page.get_by_role("heading", name="Test provider: sign in")).to_be_visible()
    page.get_by_label("Login").fill("zoe")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    expect(page).to_have_url(url("/agent/"))
    user = User.objects.get(email="zoe.durand@acme.test")
    assert (user.full_name, user.role, user.organisation, user.language) == ("Zoé Durand", "agent", org, "fr")
    assert l2.members.filter(pk=user.pk).exists()
    assert ExternalIdentity.objects.get(user=user).provider == Provider.objects.get(slug="corp")

    # signing out ends the provider's session too, then comes back to Palier's sign-in page
    page.locator("details.user-menu summary").click()
    page.locator("form[action$='/accounts/logout/'] button[type=submit]").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(url("/accounts/login/"))
    expect(page.get_by_role("link", name="Corp account")).to_be_visible()
