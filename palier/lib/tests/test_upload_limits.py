"""Hole 9: an upload larger than the attachment limit is refused while the request is read.

An attacker sending a huge multipart body must get a clear 413 (API) or the form's "too large"
message (pages) without the server writing more than the limit to disk, and a body announced
larger than any page accepts is answered before it is even sent.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.urls import reverse

from palier.people import services as people
from palier.people.models import User
from palier.tickets.models import Attachment, Comment
from palier.tickets.tests.builders import make_ticket

# the HTTP layer refuses before any database work: the PostgreSQL pass runs it (conftest.py, ``engine_independent``)
pytestmark = pytest.mark.engine_independent

LIMIT = 128 * 1024
WRITTEN: list[int] = []  # bytes each upload handed to the temporary file


class CountingTemporaryFileHandler(TemporaryFileUploadHandler):
    """Django's disk handler, counting what reaches the temporary file."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        WRITTEN.append(0)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        WRITTEN[-1] += len(raw_data)
        super().receive_data_chunk(raw_data, start)


@pytest.fixture
def small_limit(settings: Any, tmp_path: Path) -> Path:
    settings.PALIER_MAX_ATTACHMENT_BYTES = LIMIT
    settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.CountingTemporaryFileHandler"]
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    WRITTEN.clear()
    return tmp_path


def _nothing_stored(tmp_path: Path) -> None:
    assert not Attachment.objects.exists()
    assert not [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert not list((tmp_path / "upload-tmp").iterdir())
    assert all(n <= LIMIT for n in WRITTEN), WRITTEN  # the rest of the file never reached the disk


@pytest.mark.django_db
def test_api_upload_over_the_limit_is_413_and_never_written_past_it(small_limit: Path, requester: User) -> None:
    ticket = make_ticket(requester)
    secret = people.create_api_token(requester, scope="write").secret
    client = Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"})
    big = SimpleUploadedFile("dump.txt", b"a" * (LIMIT * 8))
    r = client.post(f"/api/v1/tickets/{ticket.pk}/attachments", {"file": big})
    assert r.status_code == 413, r.content
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert "dump.txt" in body["detail"] and "larger than" in body["detail"]
    assert body["errors"]["file"]
    _nothing_stored(small_limit)


@pytest.mark.django_db
def test_agent_reply_with_a_file_over_the_limit_says_so_and_sends_nothing(
    small_limit: Path, client: Client, agent: User, requester: User
) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    big = SimpleUploadedFile("dump.txt", b"a" * (LIMIT * 8))
    r = client.post(
        reverse("agent:ticket-reply", args=[ticket.pk]),
        {"body": "here are the logs", "visibility": "public", "version": ticket.version, "attachments": [big]},
    )
    assert r.status_code == 400
    assert "The file “dump.txt” is larger than" in r.content.decode()
    assert not Comment.objects.exists()
    _nothing_stored(small_limit)


def _announce(url: str, path: str, headers: dict[str, str], length: int) -> bytes:
    """Send the request line and headers of a ``length``-byte multipart body and a few bytes of it;
    return what the server answers within five seconds (nothing, if it waits for the body)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.hostname}", f"Content-Length: {length}", "Accept-Language: en"]
        lines += ["Content-Type: multipart/form-data; boundary=XyZ", *(f"{k}: {v}" for k, v in headers.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + b"--XyZ\r\n")
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


@pytest.mark.django_db(transaction=True)
def test_a_body_announced_too_large_is_refused_before_it_is_sent(
    small_limit: Path, live_server: Any, agent: User, requester: User
) -> None:
    ticket = make_ticket(requester)
    secret = people.create_api_token(requester, scope="write").secret
    huge = 1024 * 1024 * 1024
    answer = _announce(
        live_server.url, f"/api/v1/tickets/{ticket.pk}/attachments", {"Authorization": f"Bearer {secret}"}, huge
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"application/problem+json" in answer
    client = Client()
    client.force_login(agent)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    answer = _announce(live_server.url, reverse("agent:ticket-reply", args=[ticket.pk]), {"Cookie": cookie}, huge)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"Files too large" in answer
    assert not list((small_limit / "upload-tmp").iterdir())
