"""A throwaway clamd (Debian's clamav-daemon) on a Unix socket, with a signature database made here
that detects the EICAR test string: no signature is downloaded.

Fixtures: ``clamd_socket`` (session: starts the daemon once per test process) and ``clamav``
(turns scanning on for one test through ``settings.PALIER_CLAMD``). Without clamd the tests that
use them skip, and fail when ``PALIER_REQUIRE_CLAMD=1`` (as in CI). ``eicar()`` builds the test
string at run time, so the repository never holds it whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
SIGNATURE = "Palier.Test.EICAR-NDB.UNOFFICIAL"


def eicar() -> bytes:
    """The 68-byte EICAR antivirus test file (harmless; every scanner detects it)."""
    return rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-" + b"TEST-FILE!$H+H*"


def require() -> None:
    if not os.path.exists(CLAMD):
        reason = "clamd is not installed (apt-get install clamav-daemon)"
        if os.environ.get("PALIER_REQUIRE_CLAMD") == "1":
            pytest.fail(reason)  # CI installs it: a skip there would hide the antivirus tests
        pytest.skip(reason)


def _write_database(db: Path) -> None:
    db.mkdir()
    sample = eicar()
    (db / "palier-test.ndb").write_text(f"Palier.Test.EICAR-NDB:0:*:{sample.hex()}\n")
    (db / "palier-test.hdb").write_text(f"{hashlib.md5(sample).hexdigest()}:{len(sample)}:Palier.Test.EICAR-HDB\n")  # noqa: S324


def _wait_for(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"clamd exited: {log.read_text(errors='replace')[-2000:]}")
        if path.exists():
            with socket.socket(socket.AF_UNIX) as sock:
                try:
                    sock.connect(str(path))
                    sock.sendall(b"zPING\0")
                    if sock.recv(16).startswith(b"PONG"):
                        return
                except OSError:
                    pass
        time.sleep(0.05)
    raise RuntimeError("clamd did not open its socket within 30 s")


@pytest.fixture(scope="session")
def clamd_socket() -> Iterator[Path]:
    require()
    root = Path(tempfile.mkdtemp(prefix="palier-clamd-"))
    _write_database(root / "db")
    sock = root / "clamd.sock"
    conf = root / "clamd.conf"
    conf.write_text(
        "\n".join(
            [
                f"LocalSocket {sock}",
                "LocalSocketMode 660",
                "FixStaleSocket yes",
                f"DatabaseDirectory {root / 'db'}",
                f"LogFile {root / 'clamd.log'}",
                f"TemporaryDirectory {root}",
                "Foreground yes",
                "SelfCheck 0",
                "StreamMaxLength 64M",
                "",
            ]
        )
    )
    process = subprocess.Popen([CLAMD, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait_for(sock, process, root / "clamd.log")
        yield sock
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clamav(clamd_socket: Path, settings: Any) -> Path:
    """Scanning on for this test, against the real daemon."""
    settings.PALIER_CLAMD = f"unix://{clamd_socket}"
    return clamd_socket
