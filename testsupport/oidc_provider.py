"""A real OpenID provider for the tests: the OpenID-certified npm package ``oidc-provider`` run by
``testsupport/oidc/provider.mjs`` on 127.0.0.1 (a free port, one per test process).

Fixtures: ``oidc_server`` (session) and ``oidc_provider`` (a Palier ``Provider`` row registered
at it as a client for one test). Tests add accounts with ``oidc_server.add_account(...)``, shift
the clock the server announces with ``set_clock``, and mint ID tokens signed with the server's
own key (``mint``) to try what the real provider would never send. Without Node the tests skip,
unless ``PALIER_REQUIRE_NODE=1`` (CI): then they fail. ``npm ci`` in ``testsupport/oidc``
installs the package (``.ci/run`` does it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from joserfc import jwk, jwt

HERE = Path(__file__).parent / "oidc"
PASSWORD = "test-provider-password"
NODE = shutil.which("node") or "/usr/bin/node"


def require() -> None:
    reason = ""
    if not os.path.exists(NODE):
        reason = "node is not installed (apt-get install nodejs npm)"
    elif not (HERE / "node_modules" / "oidc-provider").is_dir():
        reason = "the test provider is not installed: run npm ci in testsupport/oidc"
    if reason:
        if os.environ.get("PALIER_REQUIRE_NODE") == "1":
            pytest.fail(reason)  # CI installs it: a skip there would hide the sign-in tests
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OidcServer:
    def __init__(self, port: int, key: jwk.RSAKey) -> None:
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}"
        self.key = key

    def _put(self, path: str, data: dict[str, Any]) -> None:
        requests.put(f"{self.issuer}/_test/{path}", json=data, timeout=5).raise_for_status()

    def add_account(
        self, login: str, *, password: str = PASSWORD, amr: list[str] | None = None, acr: str = "", **claims: Any
    ) -> None:
        """An account of the provider (``login`` is its ``sub``); ``claims``: email, email_verified,
        name, locale, groups."""
        self._put(f"accounts/{login}", {"password": password, "claims": claims, "amr": amr, "acr": acr or None})

    def set_clock(self, offset_seconds: int) -> None:
        self._put("clock", {"offset": offset_seconds})

    def register_client(self, redirect_uri: str, post_logout_redirect_uri: str) -> tuple[str, str]:
        """Palier registered at the provider (dynamic registration): (client id, secret)."""
        response = requests.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": [redirect_uri],
                "post_logout_redirect_uris": [post_logout_redirect_uri],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=5,
        )
        response.raise_for_status()
        data = response.json()
        return str(data["client_id"]), str(data["client_secret"])

    def sign_in(self, authorization_url: str, login: str, password: str = PASSWORD) -> str:
        """Go through the provider's sign-in and consent pages as a person would (without a
        browser) and return the address it sends them back to (Palier's callback)."""
        browser = requests.Session()
        url, method, data = authorization_url, "GET", None
        for _step in range(12):
            response = browser.request(method, url, data=data, allow_redirects=False, timeout=10)
            if response.is_redirect:
                target = urljoin(url, response.headers["Location"])
                if not target.startswith(self.issuer):
                    return target
                url, method, data = target, "GET", None
                continue
            action = re.search(r'<form method="post" action="([^"]+)"', response.text)
            if response.status_code != 200 or not action:
                raise AssertionError(f"the provider answered {response.status_code}: {response.text[:500]}")
            url, method = self.issuer + action.group(1), "POST"
            data = {"login": login, "password": password} if action.group(1).endswith("/login") else {}
        raise AssertionError("the provider's sign-in did not end")

    def mint(self, claims: dict[str, Any], *, key: jwk.RSAKey | None = None) -> str:
        """An ID token signed with the provider's key (or ``key``), with exactly these claims."""
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OidcServer]:
    require()
    port = _free_port()
    key = jwk.RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)
    config = {"port": port, "signing_key": key.as_dict(private=True), "clients": [], "accounts": {}}
    log = Path(tempfile.mkdtemp(prefix="palier-oidc-")) / "provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [NODE, str(HERE / "provider.mjs")],
            cwd=HERE,
            env={**os.environ, "PALIER_OIDC_TEST": json.dumps(config), "NODE_ENV": "test"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = OidcServer(port, key)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the test provider exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                requests.get(f"{server.issuer}/.well-known/openid-configuration", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError("the test provider did not answer within 30 s") from None
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(log.parent, ignore_errors=True)
