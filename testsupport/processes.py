"""Test helpers that run real Palier processes (workers, schedulers) against the test database.

Use them in a transactional test, so that what the test writes is committed and visible to the
processes::

    @pytest.mark.django_db(transaction=True)
    def test_breach_fires_once(settings):
        settings.TASKS = DATABASE_TASKS
        with shared_database() as env:
            ...  # create tickets, enqueue tasks (the database queue)
            with run_workers(3, env=env) as workers:
                workers.wait_until(lambda: not DBTaskResult.objects.exclude(status="SUCCESSFUL").exists())
            ...  # assert on the database

``shared_database()`` makes the test database reachable from other processes (SQLite: the
in-memory test database is copied to a file that this thread then uses; PostgreSQL: the test
database itself) and yields the environment for them. ``redis_database(db)`` gives a clean Redis
database for RQ tests, or skips the test when Redis is unreachable (fails when
``PALIER_REQUIRE_REDIS=1``, as in CI).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pytest
from django.db import connections

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@contextlib.contextmanager
def shared_database(directory: Path | None = None) -> Iterator[dict[str, str]]:
    """Make the test database visible to subprocesses; yield their environment."""
    connection = connections["default"]
    if connection.vendor != "sqlite":
        with tempfile.TemporaryDirectory(prefix="palier-data-") as data:
            yield palier_env(DATABASE_URL=_postgres_url(connection.settings_dict), PALIER_DATA_DIR=data)
        return
    with contextlib.ExitStack() as stack:
        folder = directory or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="palier-db-")))
        path = folder / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        shared = type(connection)({**connection.settings_dict, "NAME": str(path)}, "default")
        connections["default"] = shared
        try:
            yield palier_env(DATABASE_URL=f"sqlite:///{path}", PALIER_DATA_DIR=str(folder))
        finally:
            shared.close()
            connections["default"] = connection


def _postgres_url(db: Mapping[str, Any]) -> str:
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{db.get('HOST') or 'localhost'}{port}/{db['NAME']}"


def palier_env(**extra: str) -> dict[str, str]:
    """The environment of a ``palier`` subprocess: this one, without ``REDIS_URL`` unless given."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["DJANGO_SETTINGS_MODULE"] = "palier.settings"
    env.update(extra)
    return env


@contextlib.contextmanager
def redis_database(db: int) -> Iterator[str]:
    """The URL of a Redis database emptied of RQ keys before and after, held by this test alone
    (a lock in that database); skip when Redis is unreachable, fail if ``PALIER_REQUIRE_REDIS=1``."""
    import redis

    url = f"redis://127.0.0.1:6379/{db}"
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        reason = f"Redis is not reachable on 127.0.0.1:6379 ({exc})"
        if os.environ.get("PALIER_REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason}, and PALIER_REQUIRE_REDIS=1")
        pytest.skip(reason)
    # another test run on this machine may use the same database: take turns
    with client.lock("palier:tests:lock", timeout=120, blocking_timeout=120):
        _clear_rq(client)
        try:
            yield url
        finally:
            _clear_rq(client)


def _clear_rq(client: Any) -> None:
    keys = list(client.scan_iter("rq:*"))
    if keys:
        client.delete(*keys)


class Processes:
    """Running ``palier`` subprocesses; their stdout and stderr go to one log file each."""

    def __init__(self, command: Sequence[str], n: int, env: Mapping[str, str], folder: Path) -> None:
        self.logs = [folder / f"{command[0]}-{i}.log" for i in range(n)]
        self._files: list[IO[bytes]] = [log.open("wb") for log in self.logs]
        self.processes = [
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "palier.cli", *command],
                env=dict(env),
                stdout=file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for file in self._files
        ]

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)

    def outputs(self) -> list[str]:
        return [log.read_text(errors="replace") for log in self.logs]

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 60, poll: float = 0.05) -> None:
        """Return once ``condition()`` is true; fail with the processes' output if it never is or
        a process dies."""
        deadline = time.monotonic() + timeout
        while not condition():
            dead = [p.args for p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                problem = f"processes stopped: {dead}" if dead else f"condition not met after {timeout} s"
                raise AssertionError(f"{problem}\n{self.output()}")
            time.sleep(poll)

    def stop(self, timeout: float = 10) -> list[int]:
        """SIGTERM each process, then SIGKILL its group when it does not stop; the exit codes."""
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = []
        for p in self.processes:
            try:
                codes.append(p.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                codes.append(p.wait())
        for file in self._files:
            file.close()
        return codes


@contextlib.contextmanager
def run_palier(
    command: Sequence[str],
    n: int = 1,
    *,
    env: Mapping[str, str],
    until: Callable[[], bool] | None = None,
    timeout: float = 60,
) -> Iterator[Processes]:
    """Run ``n`` copies of ``palier <command>``; on leaving, wait for ``until()`` then stop them."""
    with tempfile.TemporaryDirectory(prefix="palier-logs-") as folder:
        processes = Processes(command, n, env, Path(folder))
        try:
            yield processes
            if until is not None:
                processes.wait_until(until, timeout=timeout)
        finally:
            processes.stop()


def run_workers(
    n: int,
    *,
    env: Mapping[str, str],
    until: Callable[[], bool] | None = None,
    timeout: float = 60,
) -> contextlib.AbstractContextManager[Processes]:
    """Run ``n`` ``palier worker`` processes polling the database queue every 0.1 s."""
    return run_palier(["worker", "--interval", "0.1"], n, env=env, until=until, timeout=timeout)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_web(n: int, *, env: Mapping[str, str], threads: int = 4, timeout: float = 60) -> Iterator[list[str]]:
    """Run ``n`` web processes (gunicorn, one process each, as on ``n`` machines) on free local
    ports; yield their base URLs once each answers ``/health``, stop them on leaving."""
    import urllib.request

    ports = [_free_port() for _ in range(n)]
    with tempfile.TemporaryDirectory(prefix="palier-web-") as folder:
        logs = [Path(folder) / f"web-{port}.log" for port in ports]
        files = [log.open("wb") for log in logs]
        processes = [
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "palier.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    str(threads),
                    "--graceful-timeout",
                    "5",
                ],
                env=dict(env),
                stdout=file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for port, file in zip(ports, files, strict=True)
        ]
        urls = [f"http://127.0.0.1:{port}" for port in ports]

        def output() -> str:
            return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in logs)

        try:
            deadline = time.monotonic() + timeout
            for url, process in zip(urls, processes, strict=True):
                while True:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(f"the web process at {url} did not start\n{output()}")
                    try:
                        with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:  # noqa: S310
                            if answer.status == 200:
                                break
                    except OSError:
                        time.sleep(0.1)
            yield urls
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            for file in files:
                file.close()
