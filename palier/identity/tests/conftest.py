"""Fixtures of the identity tests: a Palier ``Provider`` registered as a client at the real test
OpenID provider (``oidc_server``), and the directory tests' real slapd (one per test session,
each test in its own branch of it)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from palier.identity.models import Provider
from palier.identity.oidc import clean_config
from palier.identity.tests import slapd as slapd_server
from palier.mail import secrets as stored_secrets
from testsupport.oidc_provider import OidcServer

_trees = itertools.count(1)


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


@pytest.fixture(scope="session")
def slapd() -> Iterator[slapd_server.Slapd]:
    with slapd_server.start() as server:
        yield server


@pytest.fixture
def tree(slapd: slapd_server.Slapd) -> Iterator[slapd_server.Tree]:
    conn = slapd_server.admin(slapd.url)
    yield slapd_server.Tree(conn, f"t{next(_trees)}")
    conn.unbind()
