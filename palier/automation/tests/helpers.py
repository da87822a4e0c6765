"""A real HTTP server on 127.0.0.1 that records what it receives (webhooks, chat channels)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.test import override_settings


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answers to give, in order (then 200)


@contextmanager
def http_recorder() -> Iterator[Recorder]:
    recorder = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            recorder.received.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            status = recorder.statuses.pop(0) if recorder.statuses else 200
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    # a receiver on this machine: the desk must allow http and local addresses for it
    allowed = override_settings(PALIER_WEBHOOKS_ALLOW_HTTP=True, PALIER_WEBHOOKS_ALLOW_PRIVATE=True)
    allowed.enable()
    try:
        yield recorder
    finally:
        allowed.disable()
        server.shutdown()
        server.server_close()
