"""Retries against a real local HTTP server that answers 503 or 429 before it answers 201."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from palier_client import ApiError, Client
from palier_client.client import retry_after


class Script:
    """The answers the server gives, in order, and the requests it saw."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], Any]] = []
        self.seen: list[dict[str, Any]] = []


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            script.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
            status, headers, payload = script.answers.pop(0)
            raw = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    httpd.shutdown()
    httpd.server_close()


def client(url: str, waits: list[float], **kw: Any) -> Client:
    return Client(url, token="plr_test", sleep=waits.append, **kw)


BUSY = {"status": 503, "title": "Service unavailable", "detail": "busy", "errors": {}}


def test_a_creation_is_retried_after_503_with_the_same_key(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {"Retry-After": "3"}, BUSY), (201, {"ETag": '"7-1"'}, {"id": 7, "reference": "INC-7"})]
    waits: list[float] = []
    ticket = client(url, waits).create_ticket("Disque plein")
    assert ticket["id"] == 7 and ticket["etag"] == '"7-1"'
    assert waits == [3.0]
    keys = [seen["headers"]["Idempotency-Key"] for seen in script.seen]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert script.seen[0]["path"] == "/api/v1/tickets"
    assert script.seen[0]["headers"]["Authorization"] == "Bearer plr_test"


def test_a_comment_is_not_repeated_after_503_but_is_after_429(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}, BUSY)]
    waits: list[float] = []
    with pytest.raises(ApiError) as refused:
        client(url, waits).comment(1, "bonjour")
    assert refused.value.status == 503 and len(script.seen) == 1 and waits == []
    script.answers = [(429, {"Retry-After": "2"}, {}), (201, {}, {"id": 1})]
    assert client(url, waits).comment(1, "bonjour") == {"id": 1}
    assert waits == [2.0]


def test_waits_are_capped_and_attempts_counted(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "3600"}, {})] * 3
    waits: list[float] = []
    with pytest.raises(ApiError) as refused:
        client(url, waits, retries=2, max_wait=10).me()
    assert refused.value.status == 429
    assert waits == [10, 10] and len(script.seen) == 3


def test_without_retry_after_the_waits_grow(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {}, BUSY), (503, {}, BUSY), (200, {}, {"id": 1})]
    waits: list[float] = []
    assert client(url, waits).me() == {"id": 1}
    assert waits == [1.0, 2.0]


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert retry_after(later, now=now.timestamp()) == 42
    assert retry_after("soon") is None and retry_after(None) is None and retry_after("5") == 5
