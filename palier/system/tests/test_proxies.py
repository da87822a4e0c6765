"""X-Forwarded-Proto and X-Forwarded-For are believed from the configured proxies only."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

import pytest
from django.test import Client

from palier.system.proxies import client_address, parse_networks

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"
HSTS = "Strict-Transport-Security"


@pytest.fixture
def behind_proxy(settings: object) -> None:
    settings.PALIER_TRUSTED_PROXIES = parse_networks("PALIER_TRUSTED_PROXIES", [PROXY, "192.168.1.0/24"])  # type: ignore[attr-defined]
    settings.SECURE_HSTS_SECONDS = 31536000  # type: ignore[attr-defined]


def _get(remote: str, **headers: str) -> object:
    return Client(REMOTE_ADDR=remote).get("/accounts/login/", headers=headers)


def test_a_client_cannot_claim_https_by_itself(behind_proxy: None) -> None:
    response = _get("203.0.113.9", x_forwarded_proto="https")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert HSTS not in response.headers  # type: ignore[attr-defined]


def test_the_trusted_proxy_says_https(behind_proxy: None) -> None:
    assert HSTS in _get(PROXY, x_forwarded_proto="https").headers  # type: ignore[attr-defined]
    assert HSTS in _get("192.168.1.20", x_forwarded_proto="https").headers  # type: ignore[attr-defined]
    assert HSTS not in _get(PROXY, x_forwarded_proto="http").headers  # type: ignore[attr-defined]


def test_nothing_is_trusted_by_default() -> None:
    assert HSTS not in _get("127.0.0.1", x_forwarded_proto="https").headers  # type: ignore[attr-defined]


def test_the_client_address_is_the_last_hop_before_our_proxies() -> None:
    proxies = (ipaddress.ip_network(PROXY), ipaddress.ip_network("192.168.1.0/24"))
    # the client wrote the first entry itself: only what our proxies appended counts
    assert client_address(PROXY, "1.2.3.4, 198.51.100.7", proxies) == "198.51.100.7"
    assert client_address(PROXY, "198.51.100.7, 192.168.1.20", proxies) == "198.51.100.7"
    assert client_address(PROXY, "not-an-address", proxies) == PROXY
    assert client_address(PROXY, "", proxies) == PROXY


def test_an_invalid_proxy_setting_stops_palier() -> None:
    env = {**os.environ, "PALIER_TRUSTED_PROXIES": "10.0.0.5,proxy.example.org"}
    result = subprocess.run(
        [sys.executable, "-c", "import palier.settings"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "PALIER_TRUSTED_PROXIES" in result.stderr


def test_https_makes_cookies_secure_and_turns_hsts_on() -> None:
    code = (
        "import palier.settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    out = {}
    for https in ("true", "false"):
        env = {**os.environ, "PALIER_HTTPS": https}
        out[https] = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()
    # Django's proxy header setting believes every sender: never set, the middleware decides
    assert out["true"] == ["True", "True", "31536000", "None"]
    assert out["false"] == ["False", "False", "0", "None"]
