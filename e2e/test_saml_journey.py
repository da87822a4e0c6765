"""SAML single sign-on, end to end: an administrator adds the organisation's identity provider
(its metadata downloaded from its address), tests it and switches it on; the IdP's administrator
imports Palier's SP metadata; then a person clicks the button on the sign-in page, signs in at the
IdP (pysaml2's ``Server``, testsupport/saml_idp.py) and comes back signed in, as an agent through
the IdP's group, on the page they asked for."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from palier.identity import saml
from palier.identity.models import ExternalIdentity, Provider
from palier.people.models import User
from testsupport.saml_idp import TestIdp, saml_idp  # noqa: F401  (the session fixture)

# a sign-in journey, the same on both engines: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

SHOTS = os.environ.get("PALIER_DOC_SCREENSHOTS")  # a folder: the docs' pictures are taken there


def test_saml_sign_in_journey(
    transactional_db: None,
    live_server: Any,
    settings: Any,
    url: Callable[[str], str],
    login: Callable[..., Page],
    open_page: Callable[..., Page],
    admin_user: User,
    saml_idp: TestIdp,  # noqa: F811
) -> None:
    settings.PALIER_BASE_URL = live_server.url
    page = login(admin_user.email, "pw-ada-123!")
    page.goto(url("/agent/identity/saml/"))
    form = page.locator("form[enctype='multipart/form-data']")
    form.locator("[name=name]").fill("Acme")
    form.locator("[name=slug]").fill("acme")
    form.locator("[name=label_en]").fill("Sign in with Acme")
    form.locator("[name=label_fr]").fill("Se connecter avec Acme")
    form.locator("[name=metadata_url]").fill(f"{saml_idp.base_url}/metadata")
    form.locator("[name=sync_groups]").check()
    form.locator("[name=role_map]").fill('{"it-staff": "agent"}')
    form.locator("button[type=submit]").click()

    # the provider's page says what the IdP needs, and the test passes
    expect(page.locator("#saml-sp-settings")).to_contain_text(f"{live_server.url}/accounts/saml/acme/acs/")
    page.locator(f"form[action='/agent/identity/saml/{Provider.objects.get().pk}/test/'] button").click()
    expect(page.locator("#saml-checks li")).not_to_have_count(0)
    expect(page.locator("#saml-checks .text-bg-danger")).to_have_count(0)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "saml-provider.png"))
    page.locator("form[action$='/toggle/'] button").click()
    expect(page.locator("#saml-providers .text-bg-success")).to_have_count(1)

    # the IdP's administrator imports Palier's SP metadata from its published address
    metadata = page.request.get(url("/accounts/saml/acme/metadata/"))
    assert metadata.ok and "AssertionConsumerService" in metadata.text()
    saml_idp.trust(metadata.text(), f"{live_server.url}/accounts/saml/acme/metadata/")

    person = open_page(locale="en-GB")
    person.goto(url("/accounts/login/?next=/kb/"))
    if SHOTS:
        person.screenshot(path=os.path.join(SHOTS, "saml-sign-in-button.png"))
    person.get_by_role("link", name="Sign in with Acme").click()
    expect(person.locator("h1")).to_have_text("Test IdP")  # at the identity provider
    person.get_by_role("button", name="Sign in as ana").click()
    person.get_by_role("button", name="Continue to the service").click()

    expect(person).to_have_url(url("/kb/"))
    person.goto(url("/accounts/profile/"))
    expect(person.locator("main")).to_contain_text("ana@acme.example")
    user = User.objects.get(email="ana@acme.example")
    assert (user.full_name, user.role) == ("Ana Lima", User.Role.AGENT)
    assert ExternalIdentity.objects.get(user=user).subject == "idp-ana-7f3a"
    assert saml.COOKIE_NAME not in {cookie["name"] for cookie in person.context.cookies()}
