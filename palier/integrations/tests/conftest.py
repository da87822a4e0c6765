"""Fixtures for the integrations: the shared webhook corpus, a service account, sources, chat apps,
and a small local HTTP server standing in for Slack and Teams incoming webhooks."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from palier.integrations import outbound
from palier.integrations.models import ChatApp
from palier.integrations.services import alerts, chat
from palier.people import services as people
from palier.people.models import User

CORPUS = Path(os.environ.get("PALIER_WEBHOOK_CORPUS", str(settings.BASE_DIR.parent.parent / "shared/corpus/webhooks")))
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAMS_SECRET = "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA="


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "README.md").exists():
        pytest.skip(f"webhook corpus not found at {CORPUS} (set PALIER_WEBHOOK_CORPUS)")
    return CORPUS


def corpus_bytes(corpus: Path, name: str) -> bytes:
    return (corpus / name).read_bytes()


def corpus_json(corpus: Path, name: str) -> dict[str, Any]:
    return json.loads(corpus_bytes(corpus, name))


@pytest.fixture
def service_account(db: None) -> User:
    return people.create_user(email="prometheus@desk.test", full_name="Prometheus", role=User.Role.AGENT)


@pytest.fixture
def make_source(service_account: User) -> Any:
    def make(kind: str = "alertmanager", **extra: Any) -> tuple[Any, str]:
        issued = alerts.create_alert_source(
            name=extra.pop("name", f"{kind} source"), kind=kind, user=service_account, by=None, **extra
        )
        return issued.source, issued.token

    return make


@pytest.fixture
def slack_app(db: None, monkeypatch: pytest.MonkeyPatch) -> ChatApp:
    monkeypatch.setenv("PALIER_TEST_SLACK_SECRET", SLACK_SECRET)
    return chat.create_chat_app(
        kind=ChatApp.Kind.SLACK, name="Slack", slug="acme", secret_env="PALIER_TEST_SLACK_SECRET", by=None
    )


@pytest.fixture
def teams_app(db: None, monkeypatch: pytest.MonkeyPatch) -> ChatApp:
    monkeypatch.setenv("PALIER_TEST_TEAMS_SECRET", TEAMS_SECRET)
    return chat.create_chat_app(
        kind=ChatApp.Kind.TEAMS, name="Teams", slug="it", secret_env="PALIER_TEST_TEAMS_SECRET", by=None
    )


class Receiver:
    """What the local webhook server received, and the statuses it answers in turn."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.url = ""


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.bodies.append(json.loads(self.rfile.read(length)))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    monkeypatch.setattr(outbound, "TIMEOUT", 5.0)
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
