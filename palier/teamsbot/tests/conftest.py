"""The Bot Framework, played locally: a test issuer whose key is published through an OpenID
metadata document and a JWKS on 127.0.0.1, the token endpoint and the Bot Connector on the same
server, recording what Palier sends. Activities come from the JSON files beside this module, in
the shapes Microsoft documents."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from joserfc import jwt
from joserfc.jwk import RSAKey

from palier.integrations.models import ChatApp
from palier.integrations.services import chat
from palier.teamsbot import auth

ACTIVITIES = Path(__file__).parent / "activities"
APP_ID = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
AAD = "6c1f5c1e-2d4b-4a8e-9f3c-7b2a1d0e9f88"
SECRET = "test-client-secret"
KID = "palier-test-key"
URL = "/hooks/teams/it/messages"

ISSUER_KEY = RSAKey.generate_key(2048, parameters={"kid": KID})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": KID})  # an attacker's key with the same id


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Microsoft:
    """The local stand-in: what it received, and the statuses the connector answers next."""

    base: str = ""
    calls: list[Call] = field(default_factory=list)
    connector_statuses: list[int] = field(default_factory=list)
    token_status: int = 200
    sent: int = 0

    @property
    def service_url(self) -> str:
        return self.base + "/emea/"

    def connector_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.startswith("/emea/v3/")]

    def token_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/token"]

    def cards(self) -> list[dict[str, Any]]:
        """The cards of every activity posted or replaced, in order."""
        found = []
        for call in self.connector_calls():
            for attachment in (call.body or {}).get("attachments") or []:
                found.append(attachment["content"])
        return found

    def texts(self) -> str:
        """Every text the bot sent (plain and in cards), joined: for assertions on words."""
        parts = []
        for call in self.connector_calls():
            parts.append(json.dumps(call.body, ensure_ascii=False))
        return "\n".join(parts)


@pytest.fixture
def microsoft(settings: Any) -> Iterator[Microsoft]:
    state = Microsoft()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _record(self) -> Any:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode()
            state.calls.append(Call(self.command, self.path, dict(self.headers), body))
            return body

        def do_GET(self) -> None:
            self._record()
            if self.path == "/openid":
                self._answer(200, {"issuer": auth.ISSUER, "jwks_uri": state.base + "/keys"})
            elif self.path == "/keys":
                key = {**ISSUER_KEY.as_dict(private=False), "endorsements": ["msteams", "emulator"]}
                self._answer(200, {"keys": [key]})
            else:
                self._answer(404, {})

        def do_POST(self) -> None:
            self._record()
            if self.path == "/token":
                if state.token_status != 200:
                    self._answer(state.token_status, {"error": "invalid_client"})
                else:
                    self._answer(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": "bot-token-1"})
                return
            status = state.connector_statuses.pop(0) if state.connector_statuses else 201
            state.sent += 1
            self._answer(status, {"id": f"sent-{state.sent}"} if status < 300 else {"error": {"code": "x"}})

        def do_PUT(self) -> None:
            self._record()
            status = state.connector_statuses.pop(0) if state.connector_statuses else 200
            self._answer(status, {"id": "updated"})

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.PALIER_TEAMS_OPENID_METADATA = state.base + "/openid"
    settings.PALIER_TEAMS_TOKEN_URL = state.base + "/token"
    settings.PALIER_TEAMS_ALLOWED_SERVICE_URLS = [state.base + "/emea/"]
    settings.PALIER_BASE_URL = "https://desk.example.test"
    auth.clear_cache()
    cache.clear()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        auth.clear_cache()


@pytest.fixture
def bot(db: None, monkeypatch: pytest.MonkeyPatch, microsoft: Microsoft) -> ChatApp:
    monkeypatch.setenv("PALIER_TEST_TEAMS_BOT_SECRET", SECRET)
    return chat.create_chat_app(
        kind=ChatApp.Kind.TEAMS,
        name="Teams bot",
        slug="it",
        secret_env="PALIER_TEST_TEAMS_BOT_SECRET",
        bot_app_id=APP_ID,
        by=None,
    )


def load(name: str, microsoft: Microsoft, **changes: Any) -> dict[str, Any]:
    """A recorded activity, sent to the local connector, with ``changes`` applied."""
    activity = copy.deepcopy(json.loads((ACTIVITIES / f"{name}.json").read_text()))
    activity["serviceUrl"] = microsoft.service_url
    activity.update(changes)
    return activity


def token_for(
    activity: dict[str, Any],
    *,
    key: RSAKey = ISSUER_KEY,
    audience: str = APP_ID,
    issuer: str = auth.ISSUER,
    expires_in: int = 3600,
    service_url: str | None = None,
    kid: str = KID,
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "exp": now + expires_in,
        "nbf": now - 60,
        "serviceUrl": activity["serviceUrl"] if service_url is None else service_url,
    }
    return jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, key)


Post = Callable[..., Any]


@pytest.fixture
def post(client: Client, django_capture_on_commit_callbacks: Any) -> Post:
    """Post an activity as the Bot Framework would (valid token unless ``token``/``header`` say
    otherwise), running what is queued after commit (the outbox's sends)."""

    def send(activity: dict[str, Any], *, token: str | None = None, header: str | None = None) -> Any:
        if header is None:
            header = "Bearer " + (token if token is not None else token_for(activity))
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data=json.dumps(activity), content_type="application/json", **extra)

    return send
