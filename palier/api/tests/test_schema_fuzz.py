"""Schema fuzzing: Schemathesis generates requests from /api/v1/openapi.json for every operation
and sends each as an administrator, an agent and a requester (bearer tokens). Whatever the input,
the API must never answer 5xx, and every error must be an RFC 9457 problem (problem+json).

Bounded (``EXAMPLES`` per operation) so the whole run stays well under a minute; CI runs it with
the rest of the suite. ``PALIER_FUZZ_EXAMPLES`` raises the bound for a longer local hunt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode

from palier.people import services as people
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

# the same requests whatever the database (an id too large for it answers 500 on either): the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

EXAMPLES = int(os.environ.get("PALIER_FUZZ_EXAMPLES", "4"))
PROBLEM = "application/problem+json"


@contextmanager
def _keep_the_test_connection() -> Iterator[None]:
    """Django's WSGI handler closes the database connection after each request; inside a test
    transaction (PostgreSQL) that would end the test's transaction. The test client does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _operations(settings: Any) -> list[Any]:
    settings.ALLOWED_HOSTS = ["*"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


def _check(case: Any, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    who = headers["Authorization"][:12]
    where = f"{case.method} {case.formatted_path} as {who}…: {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.startswith(PROBLEM), where


@pytest.mark.django_db
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_error_and_every_error_is_a_problem(
    settings: Any, requester: User, agent: User, admin_user: User, mode: GenerationMode
) -> None:
    make_ticket(requester, subject="Fuzzing target")  # so that some ids exist
    roles = [
        {"Authorization": f"Bearer {people.create_api_token(user, scope='write').secret}", "Accept-Language": "en"}
        for user in (admin_user, agent, requester)
    ]
    failures: list[str] = []
    with _keep_the_test_connection():
        operations = _operations(settings)
        assert len(operations) > 40
        for operation in operations:
            _fuzz(operation, mode, roles, failures)
    assert not failures, "\n".join(failures)


def _fuzz(operation: Any, mode: GenerationMode, roles: list[dict[str, str]], failures: list[str]) -> None:
    """``EXAMPLES`` generated requests for one operation, each sent with every role's token."""

    @given(case=operation.as_strategy(mode))
    @hsettings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        for headers in roles:
            _check(case, headers)

    try:
        run()
    except AssertionError as exc:  # keep going: one run names every operation that fails
        failures.append(str(exc).splitlines()[0])
