"""`palier up` from an empty data folder: migrates, serves pages, runs the worker and the
scheduler; seeds the demo (whose accounts share a published password) only when asked."""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

DEMO_ADMIN = "admin@demo.palier.test"
DEMO_PASSWORD = "palier-demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_up(data_dir: Path, *args: str, while_up: Callable[[str], object], **extra_env: str) -> tuple[str, object]:
    """Start `palier up` on a free port, call ``while_up(base_url)`` once the sign-in page
    answers, stop everything; return the output and what ``while_up`` returned."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PALIER_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'palier.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "palier.settings",
        **extra_env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "palier.cli", "up", "--bind", f"127.0.0.1:{port}", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    result: object = None
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"{base}/accounts/login/", timeout=2) as response:
                    status = response.status
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        if status == 200:
            result = while_up(base)
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
    assert status == 200, out
    return out, result


def _sign_in(base: str, email: str, password: str) -> bool:
    """Sign in through the form, as anyone who read the README would; True when it let them in."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base}/accounts/login/", timeout=10) as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": email, "password": password}
    ).encode()
    with opener.open(f"{base}/accounts/login/", data=body, timeout=30) as response:
        return "/accounts/login/" not in response.url


# `palier up` always runs on its own SQLite file here: the same test in both passes, so it runs in
# the PostgreSQL pass only (conftest.py), which keeps the SQLite pass within its time budget
@pytest.mark.engine_independent
def test_a_plain_start_creates_no_account_and_the_demo_only_when_asked(tmp_path: Path) -> None:
    """Also: the probes answer, and one scrape adds up the counts of gunicorn's two processes."""
    out, (signed_in, (ready, refused, metrics)) = _run_up(  # type: ignore[misc]
        tmp_path,
        while_up=lambda base: (_sign_in(base, DEMO_ADMIN, DEMO_PASSWORD), _probe_and_scrape(base)),
        PALIER_METRICS_TOKEN="scrape-me",
        PALIER_LOG_FORMAT="json",
    )
    assert signed_in is False
    assert ready == 200 and refused == 401
    assert 'palier_http_requests_total{method="GET",status="200",view="ops:health"} 20.0' in metrics
    assert "palier_task_queue_depth" in metrics
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) >= 2  # the web processes' and the worker's
    assert '"logger": "palier.request", "message": "GET /health 200"' in out  # JSON lines
    assert DEMO_PASSWORD not in out
    # the address shows up only in the log of the refused sign-in, never as a login offered
    assert all("failed" in line.lower() for line in out.splitlines() if DEMO_ADMIN in line)
    assert "palier createsuperuser" in out  # how to get the first account instead
    assert "scheduler of periodic jobs" in out
    assert (tmp_path / "palier.sqlite3").exists()
    assert (tmp_path / "secret_key").exists()

    # the same data folder started again with --demo (its migrations are done: the test stays short)
    out, signed_in = _run_up(
        tmp_path, "--demo", "--demo-tickets", "30", while_up=lambda base: _sign_in(base, DEMO_ADMIN, DEMO_PASSWORD)
    )
    assert signed_in is True
    assert "agent@demo.palier.test" in out and "requester@demo.palier.test" in out
    assert "WARNING" in out and "palier-demo" in out
    assert "never expose" in out.lower()


def _probe_and_scrape(base: str) -> tuple[int, int, str]:
    """``/ready``'s status, then ``/health`` answered 20 times and ``/metrics`` read with the token."""
    with urllib.request.urlopen(f"{base}/ready", timeout=10) as response:
        ready = response.status
    for _ in range(20):
        with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
            assert response.headers["X-Request-ID"]
    try:
        urllib.request.urlopen(f"{base}/metrics", timeout=10)
        refused = 0
    except urllib.error.HTTPError as exc:
        refused = exc.code
    request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": "Bearer scrape-me"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return ready, refused, response.read().decode()
