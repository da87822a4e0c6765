"""A Palier ``Provider`` registered as a client at the real test provider (``oidc_server``)."""

from __future__ import annotations

import pytest

from palier.identity.models import Provider
from palier.identity.oidc import clean_config
from palier.mail import secrets as stored_secrets
from testsupport.oidc_provider import OidcServer


@pytest.fixture
def oidc_provider(oidc_server: OidcServer, settings: object, db: None) -> Provider:
    settings.PALIER_BASE_URL = "http://testserver"  # type: ignore[attr-defined]
    client_id, secret = oidc_server.register_client(
        "http://testserver/accounts/oidc/corp/callback/", "http://testserver/accounts/login/"
    )
    return Provider.objects.create(
        slug="corp",
        name="Corp",
        kind=Provider.Kind.OIDC,
        enabled=True,
        label_en="Sign in with Corp",
        config=clean_config(
            {"issuer": oidc_server.issuer, "client_id": client_id, "scopes": "openid email profile groups"}
        ),
        secret=stored_secrets.encrypt(secret),
    )
