"""A throwaway Dovecot (Debian's dovecot-imapd) on a free 127.0.0.1 port, for the IMAP tests.

``start(passdb=...)`` yields the port; the default passdb is one user ``desk`` with ``PASSWORD``.
The OAuth2 tests pass an ``oauth2`` passdb that asks a local introspection endpoint.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "imap-pw-123"
USER = "desk"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require() -> None:
    if not os.path.exists(DOVECOT) or os.geteuid() != 0:
        reason = "Dovecot is not installed (apt-get install dovecot-imapd) or not running as root"
        if os.environ.get("PALIER_REQUIRE_DOVECOT") == "1":
            pytest.fail(reason)  # CI installs it: a skip there would hide the IMAP tests
        pytest.skip(reason)


def _config(root: Path, port: int, passdb: str, mechanisms: str) -> str:
    nobody = pwd.getpwnam("nobody")
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
auth_cache_size = 0
login_trusted_networks = 127.0.0.0/8
first_valid_uid = {nobody.pw_uid}
last_valid_uid = {nobody.pw_uid}
{passdb}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


@contextmanager
def start(*, passdb: str = "", mechanisms: str = "plain login") -> Iterator[int]:
    require()
    nobody = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="palier-dovecot-"))
    root.chmod(0o755)
    (root / "home").mkdir()
    os.chown(root / "home", nobody.pw_uid, nobody.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    passdb = passdb or f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {root}/passwd\n}}"
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, passdb, mechanisms))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait(process, port, root)
        yield port
    finally:
        # a test server: no need to wait for Dovecot's graceful shutdown (several seconds)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _wait(process: subprocess.Popen[bytes], port: int, root: Path) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                out = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"dovecot did not start: {out} {log}")
            time.sleep(0.1)
    pytest.fail("dovecot did not listen in time")
