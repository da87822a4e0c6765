"""A local stand-in for the Microsoft and Google token endpoints and for the token introspection
Dovecot's oauth2 passdb asks, on 127.0.0.1 (HTTPS with a throwaway self-signed certificate for
msal, which refuses plain HTTP authorities; plain HTTP for Google's token_uri and Dovecot)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "s3cret~value"
TENANT = "contoso.test"


@dataclass
class TokenServer:
    https_url: str = ""
    http_url: str = ""
    ca_file: str = ""
    google_public_key: Any = None
    issued: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: int = 0

    def issue(self, prefix: str) -> str:
        with self.lock:
            self.counter += 1
            token = f"{prefix}-{self.counter}"
            self.issued.add(token)
        return token

    def count(self, kind: str) -> int:
        return sum(1 for r in self.requests if r["kind"] == kind)


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.endswith("/v2.0/.well-known/openid-configuration"):
                tenant = self.path.split("/")[1]
                base = f"{server.https_url}/{tenant}"
                return self._send(200, {
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "issuer": f"{base}/v2.0",
                })  # fmt: skip
            self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            form = {
                k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"] or 0)).decode()).items()
            }
            if self.path.endswith("/oauth2/v2.0/token"):
                return self._microsoft(form)
            if self.path == "/google/token":
                return self._google(form)
            if self.path == "/introspect":
                token = form.get("token", "")
                active = token in server.issued
                return self._send(200, {"active": active, "username": "desk"} if active else {"active": False})
            self._send(404, {"error": "not_found"})

        def _microsoft(self, form: dict[str, str]) -> None:
            server.requests.append({"kind": "microsoft", **form})
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self._send(401, {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x",
                })  # fmt: skip
            token = server.issue("ms")
            self._send(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})

        def _google(self, form: dict[str, str]) -> None:
            try:
                claims = jwt.decode(
                    form.get("assertion", ""), server.google_public_key, algorithms=["RS256"],
                    options={"verify_aud": False},  # google-auth signs for Google's own token URL
                )  # fmt: skip
            except jwt.PyJWTError as exc:
                return self._send(400, {"error": "invalid_grant", "error_description": str(exc)})
            server.requests.append({"kind": "google", **claims})
            self._send(200, {"access_token": server.issue("google"), "expires_in": 3599, "token_type": "Bearer"})

    return Handler


def _certificate(directory: Path) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def google_key_file(directory: Path, server: TokenServer) -> Path:
    """A service-account JSON key whose token_uri is the local server (Google's file format)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server.google_public_key = key.public_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = directory / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "palier-test", "private_key_id": "k1",
        "private_key": pem.decode(), "client_email": "desk-reader@palier-test.iam.gserviceaccount.com",
        "client_id": "1234567890", "token_uri": f"{server.http_url}/google/token",
    }))  # fmt: skip
    return path


@contextmanager
def running(directory: Path) -> Iterator[TokenServer]:
    server = TokenServer()
    server.ca_file, key_file = _certificate(directory)
    handler = _handler(server)
    https = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server.ca_file, key_file)
    https.socket = context.wrap_socket(https.socket, server_side=True)
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.https_url = f"https://127.0.0.1:{https.server_port}"
    server.http_url = f"http://127.0.0.1:{http.server_port}"
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (https, http)]
    for thread in threads:
        thread.start()
    try:
        yield server
    finally:
        for s in (https, http):
            s.shutdown()
            s.server_close()
