"""Virus scanning through ClamAV's daemon (clamd), with the maintained ``clamav-client`` library.

``PALIER_CLAMD`` names the daemon: ``tcp://host:3310`` or ``unix:///run/clamav/clamd.ctl``;
empty turns scanning off (every file is recorded "not scanned", and the administration pages
say so). The file is streamed to clamd with INSTREAM, so clamd needs no access to Palier's
storage. When scanning is on and clamd cannot be reached or gives no verdict, the upload is
refused (fail closed): a file nobody could check is never stored as if it were clean.
No ORM: ``lib/files.py`` calls ``scan`` for every upload, downloads call it for files stored
before scanning was on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import IO, BinaryIO, Literal, cast
from urllib.parse import urlsplit

from clamav_client import clamd
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

Status = Literal["clean", "infected", "unscanned"]
CLEAN: Status = "clean"
INFECTED: Status = "infected"
UNSCANNED: Status = "unscanned"
TIMEOUT = 60  # seconds for one file; clamd scans 25 MB in well under that


@dataclass(frozen=True)
class Verdict:
    status: Status
    signature: str = ""  # the signature clamd reported, when infected

    @property
    def infected(self) -> bool:
        return self.status == INFECTED


NOT_SCANNED = Verdict(UNSCANNED)


class ScannerUnavailable(RuntimeError):
    """Scanning is on, but clamd did not give a verdict; ``str()`` says why (for the logs)."""


def address() -> str:
    return str(getattr(settings, "PALIER_CLAMD", "") or "")


def enabled() -> bool:
    return bool(address())


def check_address(value: str) -> str:
    """Validate ``PALIER_CLAMD`` (settings call it at start-up: invalid values fail loudly)."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme == "tcp" and parts.hostname and parts.port:
        return value
    if parts.scheme == "unix" and parts.path.startswith("/") and not parts.netloc:
        return value
    raise ImproperlyConfigured(
        f"PALIER_CLAMD={value!r}: use tcp://HOST:PORT or unix:///path/to/clamd.sock, or leave it empty."
    )


def _client(timeout: int = TIMEOUT) -> clamd.ClamdNetworkSocket | clamd.ClamdUnixSocket:
    parts = urlsplit(check_address(address()))
    if parts.scheme == "unix":
        return clamd.ClamdUnixSocket(path=parts.path, timeout=timeout)
    return clamd.ClamdNetworkSocket(host=parts.hostname or "", port=parts.port or 3310, timeout=timeout)


def ping(*, timeout: int = TIMEOUT) -> bool:
    """True when the configured clamd answers within ``timeout`` seconds (administration pages,
    deploy checks, ``/ready``)."""
    if not enabled():
        return False
    try:
        return _client(timeout).ping().strip() == "PONG"
    except (clamd.ClamdError, OSError):
        return False


def scan(stream: IO[bytes]) -> Verdict:
    """Stream the file to clamd from its current position; the caller rewinds it afterwards."""
    if not enabled():
        return NOT_SCANNED
    try:
        result = _client().instream(cast(BinaryIO, stream))
    except (clamd.ClamdError, OSError) as exc:
        logger.warning("clamd at %s gave no verdict: %s", address(), exc)
        raise ScannerUnavailable(str(exc)) from exc
    status, detail = result.get("stream", ("ERROR", "no answer"))
    if status == "OK":
        return Verdict(CLEAN)
    if status == "FOUND":
        return Verdict(INFECTED, (detail or "unknown")[:200])
    logger.warning("clamd at %s answered %s: %s", address(), status, detail)
    raise ScannerUnavailable(f"{status}: {detail}")
