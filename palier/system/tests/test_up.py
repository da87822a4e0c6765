"""`palier up` from an empty data folder: migrates, seeds the demo, serves pages, runs the worker
and the scheduler."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_starts_web_and_worker_and_prints_logins(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PALIER_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'palier.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "palier.settings",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "palier.cli", "up", "--bind", f"127.0.0.1:{port}", "--demo-tickets", "30"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2) as response:
                    status = response.status
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        assert status == 200, "".join(output)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        # gunicorn and the worker run in the same session; none may outlive the launcher
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        output.append(out)
    text = "".join(output)
    assert f"http://127.0.0.1:{port}/" in text
    assert "scheduler of periodic jobs" in text
    assert "agent@demo.palier.test" in text and "requester@demo.palier.test" in text
    assert (tmp_path / "palier.sqlite3").exists()
    assert (tmp_path / "secret_key").exists()
