"""API test helpers: a JSON client per persona (session login) and bearer-token clients."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from palier.people import services as people
from palier.people.models import User

API = "/api/v1"


class ApiClient(Client):
    """A Django test client that speaks JSON to /api/v1/."""

    def call(self, method: str, path: str, body: Any = None, **headers: Any) -> Any:
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self, method.lower())(API + path, **kwargs)


@pytest.fixture
def client_for(db: None) -> Callable[[User | None], ApiClient]:
    def make(user: User | None) -> ApiClient:
        client = ApiClient()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def token_client(db: None) -> Callable[..., ApiClient]:
    def make(user: User, scope: str = "write") -> ApiClient:
        secret = people.create_api_token(user, scope=scope).secret
        return ApiClient(headers={"Authorization": f"Bearer {secret}"})

    return make


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with ``status`` naming each of ``fields``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"]
    for field in fields:
        assert field in body["errors"], body
    return body


@pytest.fixture(autouse=True)
def _fast_passwords_and_default_language(settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()  # the rate limits' counts (api/ratelimit.py) start from zero in every test
    yield
    translation.activate(settings.LANGUAGE_CODE)  # a request may have switched this thread's language
