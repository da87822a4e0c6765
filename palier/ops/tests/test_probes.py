"""``/health`` and ``/ready``: unauthenticated, cheap, and silent about why something failed."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from testsupport.processes import redis_database

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_health_answers_without_reading_anything(client: Client, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = client.get("/health")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie
    assert client.post("/health").status_code == 405


def test_ready_checks_database_queue_and_storage(client: Client, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(2):  # SELECT 1, the queue table
        response = client.get("/ready")
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "status": "ready",
        "checks": {"database": "ok", "queue": "ok", "storage": "ok"},
    }


def test_ready_fails_when_storage_cannot_be_written_and_says_not_why(
    client: Client, settings: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.MEDIA_ROOT = str(blocker / "media")  # a file stands where the folder should be
    with caplog.at_level(logging.WARNING, logger="palier.ops.ready"):
        response = client.get("/ready")
    assert response.status_code == 503
    body = response.content.decode()
    assert json.loads(body)["checks"] == {"database": "ok", "queue": "ok", "storage": "failed"}
    assert "not-a-folder" not in body and "Errno" not in body
    assert "storage failed" in caplog.text and "not-a-folder" in caplog.text  # the details are logged


def test_ready_checks_clamd_only_when_configured(
    client: Client, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    settings.PALIER_CLAMD = f"tcp://127.0.0.1:{port}"
    with caplog.at_level(logging.WARNING, logger="palier.ops.ready"):
        response = client.get("/ready")
    assert response.status_code == 503
    body = response.content.decode()
    assert json.loads(body)["checks"]["clamd"] == "failed"
    assert "127.0.0.1" not in body and str(port) not in body
    assert f"127.0.0.1:{port}" in caplog.text


def test_ready_pings_redis_when_it_holds_the_queue(client: Client, settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/ready")
    assert response.status_code == 503
    assert json.loads(response.content)["checks"]["queue"] == "failed"
    with redis_database(13) as url:
        settings.REDIS_URL = url
        response = client.get("/ready")
    assert response.status_code == 200, response.content
