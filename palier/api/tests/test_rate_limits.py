"""API rate limits: per token and per address, 429 problem+json with Retry-After."""

from __future__ import annotations

from typing import Any

from palier.api.tests.conftest import ApiClient, assert_problem
from palier.people import services as people


def bearer(user: Any, ip: str) -> ApiClient:
    secret = people.create_api_token(user, scope="read").secret
    return ApiClient(headers={"Authorization": f"Bearer {secret}"}, REMOTE_ADDR=ip)


def test_a_token_over_its_limit_gets_429_with_retry_after(requester: Any, settings: Any) -> None:
    settings.PALIER_API_RATE_TOKEN = 3
    client = bearer(requester, "192.0.2.1")
    assert [client.call("GET", "/users/me").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.call("GET", "/users/me")
    assert_problem(refused, 429)
    assert 0 < int(refused["Retry-After"]) <= 60
    assert bearer(requester, "192.0.2.1").call("GET", "/users/me").status_code == 200  # another token


def test_an_address_over_its_limit_gets_429_whatever_the_token(requester: Any, requester_b: Any, settings: Any) -> None:
    settings.PALIER_API_RATE_ADDRESS = 4
    first, second = bearer(requester, "198.51.100.1"), bearer(requester_b, "198.51.100.1")
    assert [c.call("GET", "/users/me").status_code for c in (first, second, first, second)] == [200] * 4
    assert_problem(second.call("GET", "/users/me"), 429)
    assert bearer(requester_b, "198.51.100.2").call("GET", "/users/me").status_code == 200


def test_sessions_count_per_address(client_for: Any, requester: Any, settings: Any) -> None:
    settings.PALIER_API_RATE_ADDRESS = 2
    client = client_for(requester)
    assert [client.call("GET", "/users/me").status_code for _ in range(3)] == [200, 200, 429]


def test_zero_turns_a_limit_off(requester: Any, settings: Any) -> None:
    settings.PALIER_API_RATE_TOKEN = 0
    settings.PALIER_API_RATE_ADDRESS = 0
    client = bearer(requester, "192.0.2.9")
    assert {client.call("GET", "/users/me").status_code for _ in range(5)} == {200}
