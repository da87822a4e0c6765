#!/usr/bin/env python3
"""Palier benchmark: seed N demo tickets, serve them with gunicorn (2 workers) and measure the API.

    .venv/bin/python bench/run.py                                   # 100,000 tickets on SQLite
    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/

See bench/README.md. Only talks to 127.0.0.1; every loop is bounded by a duration and a count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PALIER = str(BIN / "palier")
GUNICORN = str(BIN / "gunicorn")
RESULTS = Path(__file__).resolve().parent / "results"
AGENT = "agent@demo.palier.test"
MANAGER = "manager@demo.palier.test"
TARGETS = {
    "list": ("p95_ms", 50),
    "detail": ("p95_ms", 30),
    "search": ("p95_ms", 150),
    "create": ("rps", 300),
    "portal-home": ("p95_ms", 30),
    "portal-requests": ("p95_ms", 30),
}
PORTAL_TICKETS = 200  # the portal scenarios sign in as the requester whose ticket count is nearest
SEARCH_WORDS = ["imprimante", "vpn", "password", "messagerie", "serveur", "ecran", "licence", "wifi", "teams", "compte"]
SUBJECTS = ["Imprimante en panne au 3e étage", "Cannot connect to the VPN", "Écran noir au démarrage"]


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float
    target: str = ""
    met: bool | None = None
    load_before: float = 0.0  # 1-minute load average when the scenario started (other work skews results)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)  # CPU time by process group


@dataclass
class Run:
    started_at: str
    tickets: int
    database: str
    machine: dict[str, object]
    server: str = ""
    # peak resident memory of each web worker after the whole run, MB (VmHWM), and its target
    worker_peak_rss_mb: dict[str, float] = field(default_factory=dict)
    worker_rss_target_mb: int = 150
    seed_seconds: float | None = None
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- environment -----------------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return {
        "cores": os.cpu_count(),
        "cpu_reference_s": cpu_reference(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def cpu_reference() -> float:
    """Seconds of CPU for a fixed pure-Python loop (best of 3): virtual machines of the same
    name differ by 2x or more from day to day, so results are only comparable alongside this."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.process_time() - started)
    return round(best, 3)


def cpu_seconds() -> dict[str, tuple[str, float]]:
    """CPU seconds used so far by each process, with its group: the server (the web server this
    run started and its processes), the database (postgres) or this client."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, tuple[str, float]] = {}
    servers = server_pids()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / tick
        if int(pid) in servers:
            found[pid] = ("server", used)
        elif stat[stat.index("(") + 1 :].startswith("postgres") and _ours(pid):
            found[pid] = ("database", used)
        elif int(pid) == os.getpid():
            found[pid] = ("client", used)
    return found


def _ours(pid: str) -> bool:
    """A PostgreSQL process serving this run's database (its title names the database); other
    people's databases on the same server are not counted. Without a database name (SQLite), any."""
    if not DATABASE_NAME:
        return True
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return f" {DATABASE_NAME} ".encode() in title.replace(b"\0", b" ") + b" "


def cpu_used(before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per group between two readings (processes that ended meanwhile are not counted)."""
    groups = {"server": 0.0, "database": 0.0, "client": 0.0}
    for pid, (group, used) in after.items():
        groups[group] += used - before.get(pid, (group, 0.0))[1]
    return groups


SERVER: list[int] = []  # the process id of the web server this run started
DATABASE_NAME = ""  # the PostgreSQL database of this run


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            parents[int(pid)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def server_pids() -> set[int]:
    """The web server this run started and every process below it (its workers)."""
    if not SERVER:
        return set()
    parents = _parents()
    found = {SERVER[0]}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def worker_peak_rss_mb() -> dict[str, float]:
    """Peak resident memory (VmHWM) of each web server process that answers requests, in MB: the
    workers, or the server itself when it has no child process."""
    pids = server_pids()
    workers = (pids - set(SERVER)) or pids
    peaks: dict[str, float] = {}
    for pid in sorted(workers):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[str(pid)] = round(int(line.split()[1]) / 1024, 1)
    return peaks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def palier(env: dict[str, str], *args: str, quiet: bool = False) -> str:
    """Run ``palier ARGS`` and return its standard output; fail loudly on error."""
    proc = subprocess.run([PALIER, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"palier {' '.join(args)} failed ({proc.returncode})")
    if not quiet:
        sys.stderr.write(proc.stdout)
    return proc.stdout


@contextmanager
def database(url: str, *, keep: bool, reuse: bool, prefix: str = "palier_bench") -> Iterator[str]:
    """Yield the DATABASE_URL to use: "" for SQLite; on PostgreSQL a fresh database named
    palier_bench_<time>, dropped afterwards (with ``reuse``, the URL's own database, untouched)."""
    parts = urlsplit(url)
    if not url or (reuse and parts.path.strip("/")):
        yield url
        return
    import psycopg

    name = f"{prefix}_{datetime.now(UTC):%Y%m%d%H%M%S}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        if keep:
            sys.stderr.write(f"kept database {name}\n")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_token(env: dict[str, str]) -> str:
    """An agent's write token: `palier token create`, or the service when that command is missing."""
    commands = palier(env, "help", "--commands", quiet=True).split()
    if "token" in commands:
        return palier(env, "token", "create", AGENT, "--scope", "write", quiet=True).strip().splitlines()[-1]
    code = (
        "from palier.people.models import User; from palier.people.services import create_api_token; "
        f"print(create_api_token(User.objects.get(email='{AGENT}'), scope='write').secret)"
    )
    return palier(env, "shell", "-c", code, quiet=True).strip().splitlines()[-1]


def fixtures(env: dict[str, str]) -> dict[str, object]:
    """The triage group's id and tickets the agent may open, read straight from the database."""
    code = (
        "import json; from palier.people.models import SupportGroup; from palier.tickets.models import Ticket; "
        "g = SupportGroup.objects.get(is_triage=True); "
        "ids = list(Ticket.objects.filter(group=g).order_by('?').values_list('id', flat=True)[:2000]); "
        "print(json.dumps({'group': g.pk, 'ids': ids, 'tickets': Ticket.objects.count()}))"
    )
    return dict(json.loads(palier(env, "shell", "-c", code, quiet=True).strip().splitlines()[-1]))


SERVERS = ("gunicorn", "granian", "uvicorn")


def server_command(kind: str, app: str, port: int, workers: int, threads: int, access_log: bool) -> list[str]:
    """The command line of one web server, each with ``workers`` processes. gunicorn: sync workers
    with 1 thread, gthread above; granian (WSGI): ``threads`` blocking threads per worker; uvicorn
    (ASGI, ``app`` must be an ASGI application): one event loop per worker, Django's sync views in
    its thread pool."""
    if kind == "gunicorn":
        cmd = [GUNICORN, app, "--workers", str(workers), "--threads", str(threads)]
        cmd += ["--bind", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning"]
        return cmd + (["--access-logfile", "-"] if access_log else [])
    if kind == "granian":
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers)]
        cmd += ["--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--log-level", "warning"] + (["--access-log"] if access_log else [])
        return [*cmd, app]
    if kind == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", app, "--workers", str(workers), "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--log-level", "warning"]
        return cmd + ([] if access_log else ["--no-access-log"])
    raise SystemExit(f"unknown server {kind!r}: one of {', '.join(SERVERS)}")


@contextmanager
def server(env: dict[str, str], port: int, workers: int, threads: int) -> Iterator[str]:
    """gunicorn serving Palier on ``port`` (what the other benchmarks use); yields its address."""
    with serve(env, server_command("gunicorn", "palier.wsgi:application", port, workers, threads, False)):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def serve(env: dict[str, str], cmd: list[str], cwd: Path = ROOT) -> Iterator[None]:
    """Run the web server ``cmd`` until the block ends (its pids are what the CPU figures count)."""
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)
    SERVER[:] = [proc.pid]
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        SERVER.clear()


def wait_ready(base: str, headers: dict[str, str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/tickets?limit=1", headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server at {base} did not answer GET /api/v1/tickets with 200 in {timeout:.0f} s")


# --- measurement -------------------------------------------------------------------------------------------

_dumps = json.dumps  # ``LeanClient.post`` takes ``json=`` like httpx


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code, self.content = status, body

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class LeanClient:
    """One keep-alive HTTP/1.1 connection (the standard library's ``http.client``): the client
    shares the two cores with the server, and ``httpx`` spent 2–3 ms of CPU per request, a fifth
    of what a creation costs the server."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        self.headers = headers

    def _send(self, method: str, path: str, body: bytes | None, extra: dict[str, str]) -> Answer:
        self.conn.request(method, path, body=body, headers={**self.headers, **extra})
        response = self.conn.getresponse()
        return Answer(response.status, response.read())

    def get(self, path: str, params: dict[str, object] | None = None) -> Answer:
        return self._send("GET", f"{path}?{urlencode(params)}" if params else path, None, {})

    def post(self, path: str, json: object) -> Answer:
        return self._send("POST", path, _dumps(json).encode(), {"Content-Type": "application/json"})

    def close(self) -> None:
        self.conn.close()


Request = Callable[[LeanClient, int], Answer]


def measure(
    name: str,
    base: str,
    headers: dict[str, str],
    request: Request,
    *,
    concurrency: int,
    seconds: float,
    max_requests: int,
) -> Result:
    """Run ``request`` from ``concurrency`` threads until ``seconds`` or ``max_requests`` is reached."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(max_requests))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        client = LeanClient(base, headers)
        try:
            while time.monotonic() < deadline:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                try:
                    response = request(client, i)
                    ok, why = response.is_success, f"{response.status_code} {response.text[:200]}"
                except (OSError, http.client.HTTPException) as exc:
                    ok, why = False, repr(exc)
                    client.close()  # reconnects on the next request
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    (latencies.append(elapsed) if ok else errors.append(why))
        finally:
            client.close()

    cpu_before = cpu_seconds()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cpu_after = cpu_seconds()
    if errors:
        sys.stderr.write(f"{name}: {len(errors)} errors, first: {errors[0]}\n")
    result = summarise(name, latencies, len(errors), wall, concurrency)
    if latencies:
        used = cpu_used(cpu_before, cpu_after)
        result.cpu_ms_per_request = {group: round(used[group] / len(latencies) * 1000, 2) for group in used}
    return result


def summarise(name: str, latencies: list[float], errors: int, wall: float, concurrency: int) -> Result:
    if len(latencies) >= 2:
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        p50, p95, p99 = statistics.median(latencies), cuts[94], cuts[98]
    else:
        p50 = p95 = p99 = latencies[0] if latencies else float("nan")
    result = Result(
        name,
        concurrency,
        len(latencies),
        errors,
        round(wall, 2),
        round(p50, 1),
        round(p95, 1),
        round(p99, 1),
        round(len(latencies) / wall, 1) if wall else 0.0,
    )
    if name in TARGETS:
        metric, limit = TARGETS[name]
        value = getattr(result, metric)
        result.met = value >= limit if metric == "rps" else value <= limit
        result.target = f"{metric.replace('_ms', '')} {'≥' if metric == 'rps' else '≤'} {limit}"
    return result


def scenarios(data: dict[str, object]) -> dict[str, Request]:
    group, ids = str(data["group"]), list(data["ids"])  # type: ignore[call-overload]
    if not ids:
        raise SystemExit("no ticket in the triage group: did the demo run?")

    def me(c: LeanClient, i: int) -> Answer:
        return c.get("/api/v1/users/me")

    def listing(c: LeanClient, i: int) -> Answer:
        return c.get("/api/v1/tickets", params={"group": group, "status": "new", "sort": "priority", "limit": 25})

    def detail(c: LeanClient, i: int) -> Answer:
        return c.get(f"/api/v1/tickets/{ids[i % len(ids)]}")

    def search(c: LeanClient, i: int) -> Answer:
        return c.get("/api/v1/tickets", params={"q": SEARCH_WORDS[i % len(SEARCH_WORDS)]})

    def create(c: LeanClient, i: int) -> Answer:
        body = {
            "subject": f"{SUBJECTS[i % len(SUBJECTS)]} #{i}",
            "description": "Benchmark ticket.",
            "kind": "incident",
            "impact": "medium",
            "urgency": "low",
        }
        return c.post("/api/v1/tickets", json=body)

    return {"me": me, "list": listing, "detail": detail, "search": search, "create": create}


def sign_in(base: str, email: str) -> str:
    """Sign in through the login form; return the Cookie header of the session."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/accounts/login/")
        token = client.cookies.get("csrftoken", "")
        answer = client.post(
            "/accounts/login/",
            data={"username": email, "password": "palier-demo", "csrfmiddlewaretoken": token},
        )
        if answer.status_code != 302:
            raise SystemExit(f"could not sign in as {email}: {answer.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def portal_requester(env: dict[str, str], wanted: int = PORTAL_TICKETS) -> tuple[str, int]:
    """The demo requester (not staff) whose number of tickets is nearest ``wanted``: (email, count).
    One grouped read of the tickets table, before the measured runs."""
    code = (
        "import json; from django.db.models import Count, F, Func; from palier.people.models import User; "
        "from palier.tickets.models import Ticket; "
        "rows = (Ticket.objects.filter(requester__role=User.Role.REQUESTER, requester__is_active=True)"
        ".values('requester').annotate(n=Count('id'))"
        f".annotate(gap=Func(F('n') - {int(wanted)}, function='ABS')).order_by('gap', 'requester')[:1]); "
        "r = rows[0]; print(json.dumps([User.objects.get(pk=r['requester']).email, r['n']]))"
    )
    email, count = json.loads(palier(env, "shell", "-c", code, quiet=True).strip().splitlines()[-1])
    return str(email), int(count)


def portal_scenarios() -> dict[str, Request]:
    """The requester's portal as a browser asks for it: the home page (the five latest open
    requests) and "My requests" (the first page, then the closed tab)."""

    def home(c: LeanClient, i: int) -> Answer:
        return c.get("/portal/")

    def requests(c: LeanClient, i: int) -> Answer:
        return c.get("/portal/requests/", params={"state": "closed"} if i % 2 else None)

    return {"portal-home": home, "portal-requests": requests}


def page_scenarios(data: dict[str, object]) -> dict[str, Request]:
    """The agent workspace as a browser asks for it (HTML, session cookie)."""
    ids = list(data["ids"])  # type: ignore[call-overload]

    def queue(c: LeanClient, i: int) -> Answer:
        return c.get("/agent/")

    def queue_mine(c: LeanClient, i: int) -> Answer:
        return c.get("/agent/", params={"assignee": "me"})

    def ticket_page(c: LeanClient, i: int) -> Answer:
        return c.get(f"/agent/tickets/{ids[i % len(ids)]}/")

    def page_search(c: LeanClient, i: int) -> Answer:
        return c.get("/agent/search/", params={"q": SEARCH_WORDS[i % len(SEARCH_WORDS)]})

    return {"queue": queue, "queue-me": queue_mine, "ticket": ticket_page, "find": page_search}


def table(run: Run) -> str:
    head = (
        f"{'scenario':<15} {'conc':>4} {'requests':>8} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>8}  {'CPU ms/request (server db client)':>34}  target"
    )
    lines = [
        f"{run.tickets:,} tickets on {run.database}; seeded in {run.seed_seconds or 0:.1f} s; {run.server}; "
        f"CPU reference loop {run.machine.get('cpu_reference_s')} s",
        head,
    ]
    tail = []
    if run.worker_peak_rss_mb:
        peak = max(run.worker_peak_rss_mb.values())
        verdict = "ok" if peak <= run.worker_rss_target_mb else "MISSED"
        each = ", ".join(f"{mb:.1f}" for mb in run.worker_peak_rss_mb.values())
        tail.append(f"peak RSS per web worker after the run: {each} MB (target ≤ {run.worker_rss_target_mb}) {verdict}")
    for r in run.results:
        verdict = "" if r.met is None else ("ok" if r.met else "MISSED")
        cpu = r.cpu_ms_per_request
        cost = f"{cpu.get('server', 0):.1f} {cpu.get('database', 0):.1f} {cpu.get('client', 0):.1f}" if cpu else "-"
        lines.append(
            f"{r.name:<15} {r.concurrency:>4} {r.requests:>8} {r.errors:>6} {r.p50_ms:>8.1f} "
            f"{r.p95_ms:>8.1f} {r.p99_ms:>8.1f} {r.rps:>8.1f}  {cost:>34}  {r.target} {verdict}"
        )
    return "\n".join(lines + tail)


# --- main ------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets to seed (default 100,000)")
    p.add_argument("--database-url", default="", help="a PostgreSQL server URL; a fresh database is created")
    p.add_argument("--data-dir", default="", help="SQLite: use (and keep) this data folder instead of a temp one")
    p.add_argument(
        "--no-seed", action="store_true", help="reuse the data in --data-dir or the database named in --database-url"
    )
    p.add_argument("--keep", action="store_true", help="keep the database / data folder afterwards")
    p.add_argument("--seconds", type=float, default=20, help="duration of each scenario (default 20)")
    p.add_argument("--max-requests", type=int, default=5_000, help="request cap per scenario (default 5000)")
    p.add_argument("--concurrency", type=int, default=2, help="client threads for reads (default 2)")
    p.add_argument("--create-concurrency", type=int, default=8, help="client threads for creation (default 8)")
    p.add_argument("--server", default="gunicorn", choices=SERVERS, help="web server (default gunicorn)")
    p.add_argument(
        "--app",
        default="",
        help="the application the server loads (default palier.wsgi:application; uvicorn needs an ASGI one)",
    )
    p.add_argument("--workers", type=int, default=2, help="web server processes (default 2)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per worker (default 1: gunicorn sync workers; `palier up` uses 4, gthread)",
    )
    p.add_argument("--access-log", action="store_true", help="with the server's access log (as `palier up`)")
    p.add_argument(
        "--only", default="", help="comma-separated scenarios to run (me,list,detail,search,create); default all"
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument(
        "--pages", action="store_true", help="also measure the agent workspace pages and the portal (signed in)"
    )
    p.add_argument("--reports", action="store_true", help="also measure the dashboards (manager and agent)")
    return p.parse_args(argv)


def prepare(args: argparse.Namespace, env: dict[str, str], run: Run) -> None:
    if args.no_seed:
        return
    palier(env, "migrate", "--no-input", "-v0")
    t0 = time.perf_counter()
    palier(env, "demo", "--tickets", str(args.tickets), "--seed", str(args.seed))
    run.seed_seconds = round(time.perf_counter() - t0, 1)
    analyze = "VACUUM ANALYZE" if env.get("DATABASE_URL") else "ANALYZE"
    palier(env, "shell", "-c", f"from django.db import connection; connection.cursor().execute('{analyze}')")


def report_scenarios() -> dict[str, tuple[str, Request]]:
    """The dashboards (HTML, session cookie): (who signs in, request). The team dashboard is the
    manager's (their groups); "My figures" the agent's. Each figure is kept a minute per viewer
    (``PALIER_REPORTS_CACHE_SECONDS``): run with ``PALIER_REPORTS_CACHE_SECONDS=0`` in the
    environment to measure the computation on every request, as the published figures do."""

    def team(period: str, **filters: str) -> Request:
        return lambda c, i: c.get("/agent/reports/", params={"period": period, **filters})

    def mine(c: LeanClient, i: int) -> Answer:
        return c.get("/agent/reports/me/", params={"period": "30d"})

    return {
        "dashboard-30d": (MANAGER, team("30d")),
        "dashboard-year": (MANAGER, team("year")),
        "dashboard-30d-filtered": (MANAGER, team("30d", channel="email", priority="3")),
        "my-figures": (AGENT, mine),
    }


def bench(args: argparse.Namespace, env: dict[str, str], run: Run) -> None:
    prepare(args, env, run)
    kind = args.server
    if kind == "gunicorn":
        kind = "gunicorn sync" if args.threads == 1 else "gunicorn gthread"
    run.server = f"{kind}, {args.workers} workers x {args.threads} threads" + (
        ", access log" if args.access_log else ""
    )
    token = make_token(env)
    data = fixtures(env)
    run.tickets = int(data["tickets"])  # type: ignore[call-overload]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = args.app or "palier.wsgi:application"
    with serve(env, server_command(args.server, app, port, args.workers, args.threads, args.access_log)):
        wait_ready(base, headers)
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        for name, request in scenarios(data).items():
            if wanted and name not in wanted:
                continue
            conc = args.create_concurrency if name == "create" else args.concurrency
            measure(name, base, headers, request, concurrency=conc, seconds=2, max_requests=50)  # warm-up
            load = os.getloadavg()[0]
            result = measure(
                name, base, headers, request, concurrency=conc, seconds=args.seconds, max_requests=args.max_requests
            )
            result.load_before = round(load, 2)
            run.results.append(result)
            sys.stderr.write(f"  {name}: p95 {result.p95_ms} ms, {result.rps} req/s\n")
        if args.reports:
            for name, (who, request) in report_scenarios().items():
                cookie = {"Cookie": sign_in(base, who)}
                measure(name, base, cookie, request, concurrency=1, seconds=2, max_requests=3)  # warm-up
                result = measure(
                    name, base, cookie, request, concurrency=1, seconds=args.seconds, max_requests=args.max_requests
                )
                run.results.append(result)
                sys.stderr.write(f"  {name}: p50 {result.p50_ms} ms, p95 {result.p95_ms} ms\n")
        if args.pages:

            def signed_in(scenarios: dict[str, Request], cookie: dict[str, str], note: str = "") -> None:
                for name, request in scenarios.items():
                    measure(name, base, cookie, request, concurrency=args.concurrency, seconds=2, max_requests=30)
                    result = measure(
                        name,
                        base,
                        cookie,
                        request,
                        concurrency=args.concurrency,
                        seconds=args.seconds,
                        max_requests=args.max_requests,
                    )
                    run.results.append(result)
                    sys.stderr.write(f"  {name}{note}: p95 {result.p95_ms} ms, {result.rps} req/s\n")

            signed_in(page_scenarios(data), {"Cookie": sign_in(base, AGENT)})
            email, count = portal_requester(env)
            sys.stderr.write(f"  portal: signed in as {email} ({count} tickets)\n")
            signed_in(portal_scenarios(), {"Cookie": sign_in(base, email)}, f" ({count} tickets)")
        run.worker_peak_rss_mb = worker_peak_rss_mb()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(
        datetime.now(UTC).isoformat(timespec="seconds"),
        args.tickets,
        "postgresql" if args.database_url else "sqlite",
        machine(),
    )
    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="palier-bench-"))
    (data_dir / "static").mkdir(parents=True, exist_ok=True)  # whitenoise warns when STATIC_ROOT is missing
    with database(args.database_url, keep=args.keep, reuse=args.no_seed) as url:
        env = {
            **os.environ,
            "PALIER_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # the API's per-minute limits are still counted on every request, never reached
            "PALIER_API_RATE_TOKEN": os.environ.get("PALIER_API_RATE_TOKEN", "100000000"),
            "PALIER_API_RATE_ADDRESS": os.environ.get("PALIER_API_RATE_ADDRESS", "100000000"),
        }
        if url:
            env["DATABASE_URL"] = url
            global DATABASE_NAME
            DATABASE_NAME = urlsplit(url).path.strip("/")
        else:
            env.pop("DATABASE_URL", None)
        try:
            bench(args, env, run)
        finally:
            if not (args.keep or args.data_dir):
                shutil.rmtree(data_dir, ignore_errors=True)
    print(table(run))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{run.database}-{run.tickets}.json"
    out.write_text(json.dumps(asdict(run), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0 if all(r.errors == 0 for r in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
