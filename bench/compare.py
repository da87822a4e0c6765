#!/usr/bin/env python3
"""Palier and django-helpdesk side by side: the same workload, the same server, the same client.

    .venv/bin/python bench/compare.py --tickets 100000 --database-url postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/compare.py --tickets 2000 --engines sqlite --mail-messages 200

Installs the latest django-helpdesk release from PyPI into its own virtual environment
(bench/.cache/peer-venv, made once; ``--upgrade-peer`` to look for a newer release), seeds both
systems with the workload of bench/compare/workload.py (same tickets, three comments each, the
same share of tickets containing each search word, the same agents and requesters), on
PostgreSQL then SQLite (``--engines``), serves each in turn with gunicorn and 2 sync workers, and
measures both with bench/run.py's client and scenarios of the same kind; then the intake of the
same IMAP messages from a local Dovecot. Prints one table with both systems and the ratio, writes
``bench/results/<time>-compare-<N>.json`` and a chart (SVG). See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "compare"))
sys.path.insert(0, str(ROOT))

import run  # noqa: E402  (bench/run.py: seeding helpers, gunicorn, CPU accounting, the client)
import workload  # noqa: E402  (bench/compare/workload.py)

PEER = "django-helpdesk"
PEER_DIR = HERE / "compare"
CACHE = HERE / ".cache"
PEER_VENV = CACHE / "peer-venv"
PEER_AGENT = "agent@peer.test"
PEER_PASSWORD = "peer-bench"
DOCS_CHARTS = ROOT / "docs" / "bench-results"
SCENARIOS = ["queue", "queue-data", "ticket", "search", "dashboard", "create", "mail"]
THROUGHPUT = {"create", "mail"}  # higher is better (per second); the rest are latencies
WORDS = list(workload.SEARCH_WORDS)
MAIL_ENV = {"PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR": "0", "PALIER_MAIL_TICKETS_PER_HOUR": "0"}


@dataclass
class Side:
    """One system's figures for one scenario."""

    requests: int = 0
    errors: int = 0
    p50_ms: float = float("nan")
    p95_ms: float = float("nan")
    per_second: float = float("nan")
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    load_before: float = 0.0
    note: str = ""


@dataclass
class Row:
    engine: str
    scenario: str
    palier: Side
    peer: Side

    @property
    def ratio(self) -> float:
        """How many times faster Palier is (below 1: the peer is faster)."""
        return ratio(self.scenario, self.palier, self.peer)


@dataclass
class Report:
    started_at: str
    tickets: int
    command: str
    machine: dict[str, object]
    versions: dict[str, str]
    workload: dict[str, object] = field(default_factory=dict)
    phases: list[dict[str, object]] = field(default_factory=list)  # (engine, phase, seconds): to plan long runs
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- pure parts (tested in bench/tests/test_compare.py) ----------------------------------------------------


def ratio(scenario: str, palier: Side, peer: Side) -> float:
    """Palier's advantage: peer p50 / Palier p50 for latencies, Palier rate / peer rate for throughputs."""
    if scenario in THROUGHPUT:
        a, b = palier.per_second, peer.per_second
    else:
        a, b = peer.p50_ms, palier.p50_ms
    if not (a > 0 and b > 0) or math.isnan(a) or math.isnan(b):
        return float("nan")
    return a / b


def fmt_ratio(value: float) -> str:
    if math.isnan(value):
        return "-"
    if value >= 1:
        return f"{value:.1f}x faster" if value < 100 else f"{value:,.0f}x faster"
    return f"{1 / value:.1f}x slower"


def fmt_side(scenario: str, side: Side) -> str:
    if side.requests == 0 and side.errors == 0:
        return "-"
    text = f"{side.per_second:,.1f}/s" if scenario in THROUGHPUT else f"{_ms(side.p50_ms)} / {_ms(side.p95_ms)}"
    return text + (f" ({side.errors} err)" if side.errors else "")


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_cpu(side: Side) -> str:
    cpu = side.cpu_ms_per_request
    return f"{cpu.get('server', 0):.1f}+{cpu.get('database', 0):.1f}" if cpu else "-"


def table(rows: list[Row]) -> str:
    """One table: both systems, then the ratio. Latencies are p50 / p95 in ms; rates per second."""
    head = (
        f"{'database':<10} {'scenario':<11} {'Palier p50/p95 ms or rate':>26} {PEER + ' p50/p95 or rate':>30} "
        f"{'Palier is':>15}  {'server+db CPU ms/req (Palier | peer)':>36}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        cpu = f"{fmt_cpu(r.palier)} | {fmt_cpu(r.peer)}"
        lines.append(
            f"{r.engine:<10} {r.scenario:<11} {fmt_side(r.scenario, r.palier):>26} {fmt_side(r.scenario, r.peer):>30} "
            f"{fmt_ratio(r.ratio):>15}  {cpu:>36}"
        )
    return "\n".join(lines)


def side_from(result: run.Result) -> Side:
    return Side(
        requests=result.requests,
        errors=result.errors,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        per_second=result.rps,
        cpu_ms_per_request=dict(result.cpu_ms_per_request),
        load_before=result.load_before,
    )


def chart(rows: list[Row], title: str) -> str:
    """An SVG bar chart of how many times faster Palier is per scenario (log scale), one series
    per database; a bar below 1 is a scenario where the peer is faster."""
    import pygal
    from pygal.style import Style

    style = Style(colors=("#2b6cb0", "#c05621", "#2f855a"), font_family="sans-serif", background="white")
    values = [r.ratio for r in rows if not math.isnan(r.ratio)] or [1.0]
    low, high = min(0.5, min(values) / 1.5), max(2.0, max(values) * 1.5)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if low <= t <= high]
    bars = pygal.Bar(
        range=(low, high),
        zero=1,  # bars grow up from 1 (Palier faster) or down from it (the peer faster)
        y_labels=ticks,
        legend_at_bottom=True,
        logarithmic=True,
        title=title,
        y_title="Palier's speed / django-helpdesk's (log scale; 1 = as fast)",
        style=style,
        width=900,
        height=480,
        print_values=True,
        value_formatter=lambda v: f"{v:.1f}x" if v < 100 else f"{v:,.0f}x",
        js=[],  # no script from a CDN: a static SVG
    )
    scenarios = [s for s in SCENARIOS if any(r.scenario == s for r in rows)]
    bars.x_labels = scenarios
    for engine in dict.fromkeys(r.engine for r in rows):
        by = {r.scenario: r.ratio for r in rows if r.engine == engine}
        bars.add(engine, [None if math.isnan(by.get(s, math.nan)) else by[s] for s in scenarios])
    return str(bars.render(is_unicode=True))


# --- the peer's environment ----------------------------------------------------------------------------


def peer_python() -> str:
    return str(PEER_VENV / "bin" / "python")


def ensure_peer(upgrade: bool, spec: str) -> str:
    """Create the peer's virtual environment (once) and return django-helpdesk's version."""
    if not (PEER_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        upgrade = True
    if upgrade:
        pip = [peer_python(), "-m", "pip", "install", "--quiet", "--upgrade"]
        subprocess.run([*pip, spec, "gunicorn", "psycopg[binary]"], check=True)
    return peer_version()


def peer_version() -> str:
    code = "import importlib.metadata as m; print(m.version('django-helpdesk'), m.version('django'))"
    out = subprocess.run([peer_python(), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return f"{out[0]} (Django {out[1]})"


def peer_run(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([peer_python(), *args], env=env, cwd=PEER_DIR, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"peer: {' '.join(args)} failed ({proc.returncode})")
    return proc.stdout


def peer_env(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PALIER_", "DATABASE_URL"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "peer.settings",
        "PYTHONPATH": str(PEER_DIR),
        "PEER_DATABASE_URL": url or f"sqlite:///{data_dir / 'peer.sqlite3'}",
        "PEER_DATA_DIR": str(data_dir),
        "PEER_SECRET_KEY": secrets.token_urlsafe(40),
        # its search compares dates as text (created__icontains): one warning per request otherwise
        "PYTHONWARNINGS": "ignore::RuntimeWarning",
    }


@contextmanager
def peer_server(env: dict[str, str], port: int, workers: int) -> Iterator[str]:
    gunicorn = str(PEER_VENV / "bin" / "gunicorn")
    cmd = [gunicorn, "peer.wsgi:application", "--workers", str(workers), "--threads", "1"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"]
    _scope["port"] = port
    with run.serve(env, cmd, cwd=PEER_DIR):
        yield f"http://127.0.0.1:{port}"


def wait_for(base: str, path: str, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}{path}", timeout=5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base}{path} did not answer in {timeout:.0f} s")


def peer_sign_in(base: str) -> str:
    import httpx

    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/login/")
        token = client.cookies.get("csrftoken", "")
        answer = client.post(
            "/login/", data={"username": PEER_AGENT, "password": PEER_PASSWORD, "csrfmiddlewaretoken": token}
        )
        if answer.status_code != 302:
            raise SystemExit(f"could not sign in to the peer: {answer.status_code}")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


# --- CPU accounting scoped to the system under test -----------------------------------------------------

_scope: dict[str, object] = {}


def scoped_cpu_seconds() -> dict[str, tuple[str, float]]:
    """bench/run.py's CPU reading, kept to this run's processes: the gunicorn serving now (its master
    and workers) and the database backends connected to its database. Others share this machine:
    their gunicorn and postgres processes would be counted otherwise."""
    found = _all_cpu()
    port = _scope.get("port")
    if port:
        ours = _serving(int(port))  # type: ignore[call-overload]
        found = {pid: v for pid, v in found.items() if v[0] != "server" or pid in ours}
    backends = _backends(str(_scope.get("database_url") or ""))
    return {pid: v for pid, v in found.items() if v[0] != "database" or pid in backends}


_all_cpu = run.cpu_seconds
run.cpu_seconds = scoped_cpu_seconds  # run.measure reads it


def _serving(port: int) -> set[str]:
    """The gunicorn master and workers listening on ``port`` (they share its command line)."""
    needle, found = f"127.0.0.1:{port}".encode(), set()  # one argument of the command line, exactly
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if b"gunicorn" in cmd and needle in cmd.split(b"\0"):
            found.add(entry)
    return found


def _backends(url: str) -> set[str]:
    if not url:
        return set()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {str(row[0]) for row in rows}


# --- databases ---------------------------------------------------------------------------------------------


@contextmanager
def pg_database(server_url: str, prefix: str, keep: bool) -> Iterator[str]:
    """A fresh PostgreSQL database named ``<prefix>_<time>``, dropped afterwards unless ``keep``."""
    with run.database(server_url, keep=keep, reuse=False, prefix=prefix) as url:
        yield url


def analyze(url: str, sqlite_path: Path) -> None:
    """VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite), as bench/run.py does for Palier."""
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    else:
        with sqlite3.connect(sqlite_path) as conn:
            conn.execute("ANALYZE")


def pg_version(server_url: str) -> str:
    import psycopg

    parts = urlsplit(server_url)
    with psycopg.connect(urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else ""


# --- scenarios -----------------------------------------------------------------------------------------------

Request = Callable[[run.LeanClient, int], run.Answer]
_AJAX = re.compile(r'"url":\s*"(/datatables_ticket_list/[^"]+)"')


def peer_page_and_data(path: str, params: Callable[[int], dict[str, object] | None]) -> Request:
    """The peer's list page, then the JSON request its page makes (DataTables, server side, 25 rows)."""

    def request(c: run.LeanClient, i: int) -> run.Answer:
        page = c.get(path, params=params(i))
        if not page.is_success:
            return page
        found = _AJAX.search(page.text)
        if not found:
            return run.Answer(599, b"no DataTables request in the list page")
        return c.get(found.group(1), params={"draw": 1, "start": 0, "length": 25})

    return request


def peer_data_url(base: str, cookie: dict[str, str]) -> str:
    page = run.LeanClient(base, cookie)
    try:
        found = _AJAX.search(page.get("/tickets/").text)
    finally:
        page.close()
    if not found:
        raise SystemExit("the peer's list page makes no DataTables request: its version changed?")
    return found.group(1)


def palier_requests(ids: list[int]) -> dict[str, tuple[str, Request]]:
    """scenario -> (who signs in: "agent", "manager" or "token", request)."""

    def word(i: int) -> str:
        return WORDS[i % len(WORDS)]

    def create(c: run.LeanClient, i: int) -> run.Answer:
        body = {"subject": f"Benchmark ticket #{i}", "description": "Created by bench/compare.py."}
        return c.post("/api/v1/tickets", json={**body, "kind": "incident", "impact": "medium", "urgency": "low"})

    return {
        "queue": ("agent", lambda c, i: c.get("/agent/")),
        "queue-data": ("token", lambda c, i: c.get("/api/v1/tickets", params={"limit": 25})),
        "ticket": ("agent", lambda c, i: c.get(f"/agent/tickets/{ids[i % len(ids)]}/")),
        "search": ("agent", lambda c, i: c.get("/agent/search/", params={"q": word(i)})),
        "dashboard": ("manager", lambda c, i: c.get("/agent/reports/", params={"period": "30d"})),
        "create": ("token", create),
    }


def peer_requests(ids: list[int], queue: int, data_url: str) -> dict[str, tuple[str, Request]]:
    def create(c: run.LeanClient, i: int) -> run.Answer:
        body = {"queue": queue, "title": f"Benchmark ticket #{i}", "description": "Created by bench/compare.py."}
        return c.post("/api/tickets/", json={**body, "submitter_email": "requester00001@peer.test", "priority": 3})

    return {
        "queue": ("agent", peer_page_and_data("/tickets/", lambda i: None)),
        "queue-data": ("agent", lambda c, i: c.get(data_url, params={"draw": 1, "start": 0, "length": 25})),
        "ticket": ("agent", lambda c, i: c.get(f"/tickets/{ids[i % len(ids)]}/")),
        "search": ("agent", peer_page_and_data("/tickets/", lambda i: {"q": WORDS[i % len(WORDS)]})),
        "dashboard": ("agent", lambda c, i: c.get("/dashboard/")),
        "create": ("token", create),
    }


def measure_all(
    base: str,
    headers_for: dict[str, dict[str, str]],
    requests: dict[str, tuple[str, Request]],
    args: argparse.Namespace,
    wanted: set[str],
    label: str,
) -> dict[str, run.Result]:
    out: dict[str, run.Result] = {}
    for name, (who, request) in requests.items():
        if name not in wanted:
            continue
        headers = headers_for[who]
        concurrency = args.create_concurrency if name == "create" else args.concurrency
        slow = name in ("dashboard", "search")
        warm = 3 if slow else 30
        run.measure(name, base, headers, request, concurrency=concurrency, seconds=2, max_requests=warm)
        load = os.getloadavg()[0]
        result = run.measure(
            name,
            base,
            headers,
            request,
            concurrency=concurrency,
            seconds=args.seconds,
            max_requests=args.max_requests if name != "create" else args.create_requests,
        )
        result.load_before = round(load, 2)
        out[name] = result
        sys.stderr.write(f"  {label} {name}: p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, {result.rps}/s\n")
    return out


# --- email intake ----------------------------------------------------------------------------------------------


def messages(n: int) -> list[bytes]:
    """The same n messages for both: bench/mail_ingest.py's generator (new requests, requests with
    an attachment, replies threaded by In-Reply-To), addressed to each desk alike."""
    from mail_ingest import Generator

    gen = Generator("compare", 7, None)
    return [gen.message(i) for i in range(n)]


@contextmanager
def dovecot_with(raw: list[bytes]) -> Iterator[int]:
    from imap_tools import MailBoxUnencrypted

    from palier.mail.tests import dovecot

    with dovecot.start() as port:
        with MailBoxUnencrypted("127.0.0.1", port=port).login(dovecot.USER, dovecot.PASSWORD) as client:
            for message in raw:
                client.append(message, "INBOX", flag_set=())
        yield port


def palier_mail(env: dict[str, str], raw: list[bytes]) -> Side:
    from palier.mail.tests import dovecot

    count = "from palier.tickets.models import Ticket, Comment; print(Ticket.objects.count(), Comment.objects.count())"
    with dovecot_with(raw) as port:
        code = (
            "from palier.mail.models import Mailbox; "
            "m, _ = Mailbox.objects.get_or_create(name='desk', defaults={'address': 'desk@palier.test'}); "
            f"m.imap_host, m.imap_port, m.imap_tls, m.imap_user = '127.0.0.1', {port}, False, '{dovecot.USER}'; "
            f"m.is_active = True; m.set_password('{dovecot.PASSWORD}'); m.save()"
        )
        run.palier(env, "shell", "-c", code, quiet=True)
        before = [int(x) for x in run.palier(env, "shell", "-c", count, quiet=True).split()[-2:]]
        started, calls = time.perf_counter(), 0
        for _ in range(len(raw) // 100 + 10):  # 200 a fetch; bounded
            calls += 1
            out = run.palier(env, "mailfetch", "--mailbox", "desk", quiet=True)
            if re.search(r"\b0 message", out):
                break
        seconds = time.perf_counter() - started
        idle = time.perf_counter()
        run.palier(env, "mailfetch", "--mailbox", "desk", quiet=True)  # nothing left: start-up and poll
        idle = time.perf_counter() - idle
    after = [int(x) for x in run.palier(env, "shell", "-c", count, quiet=True).split()[-2:]]
    note = f"{after[0] - before[0]} tickets, {after[1] - before[1]} comments"
    return mail_side(len(raw), seconds, calls, idle, note)


def mail_side(n: int, seconds: float, calls: int, idle: float, note: str) -> Side:
    """The intake's rate without the commands' start-ups: ``calls`` runs took ``seconds``, and a
    run with nothing to fetch takes ``idle`` (Python, Django, the IMAP login). Both in the note."""
    net = max(seconds - calls * idle, 0.001)
    note += f"; {n / seconds:.1f}/s with {calls} start-up(s) of {idle:.1f} s counted"
    return Side(requests=n, per_second=round(n / net, 1), note=note)


def peer_mail(env: dict[str, str], raw: list[bytes]) -> Side:
    from palier.mail.tests import dovecot

    count = "from helpdesk.models import Ticket, FollowUp; print(Ticket.objects.count(), FollowUp.objects.count())"
    with dovecot_with(raw) as port:
        peer_run(env, "peer_tasks.py", "mailbox", "--port", str(port), "--user", dovecot.USER,
                 "--password", dovecot.PASSWORD)  # fmt: skip
        before = [int(x) for x in peer_run(env, "-m", "django", "shell", "-c", count).split()[-2:]]
        seconds, calls = 0.0, 0
        for _ in range(5):  # get_email takes every message of the folder at once and deletes it
            calls += 1
            started = time.perf_counter()
            peer_run(env, "-m", "django", "get_email", "--quiet")
            seconds += time.perf_counter() - started
            if _imap_left(port) == 0:
                break
        idle = time.perf_counter()
        peer_run(env, "-m", "django", "get_email", "--quiet")  # nothing left: start-up and poll
        idle = time.perf_counter() - idle
    after = [int(x) for x in peer_run(env, "-m", "django", "shell", "-c", count).split()[-2:]]
    note = f"{after[0] - before[0]} tickets, {after[1] - before[1]} follow-ups"
    return mail_side(len(raw), seconds, calls, idle, note)


def _imap_left(port: int) -> int:
    from imap_tools import MailBoxUnencrypted

    from palier.mail.tests import dovecot

    with MailBoxUnencrypted("127.0.0.1", port=port).login(dovecot.USER, dovecot.PASSWORD) as client:
        return len(client.numbers())


# --- one database engine -------------------------------------------------------------------------------------


class Phases:
    def __init__(self, report: Report, engine: str) -> None:
        self.report, self.engine = report, engine

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        sys.stderr.write(f"[{self.engine}] {name}...\n")
        try:
            yield
        finally:
            seconds = round(time.perf_counter() - started, 1)
            load = round(os.getloadavg()[0], 2)
            self.report.phases.append({"engine": self.engine, "phase": name, "seconds": seconds, "load": load})
            sys.stderr.write(f"[{self.engine}] {name}: {seconds} s (load {load})\n")


def compare_engine(engine: str, args: argparse.Namespace, report: Report) -> None:
    phase = Phases(report, engine)
    wanted = {s.strip() for s in args.only.split(",") if s.strip()} or set(SCENARIOS)
    if args.mail_messages <= 0:
        wanted.discard("mail")
    data_dir = Path(tempfile.mkdtemp(prefix="palier-compare-"))
    peer_dir = Path(tempfile.mkdtemp(prefix="peer-compare-"))
    (data_dir / "static").mkdir()
    (peer_dir / "static").mkdir()
    server = args.database_url if engine == "postgresql" else ""
    try:
        with _maybe_pg(server, "palier_bench", args.keep) as url, _maybe_pg(server, "peer_bench", args.keep) as purl:
            env = {
                **os.environ,
                "PALIER_DATA_DIR": str(data_dir),
                "SECRET_KEY": secrets.token_urlsafe(40),
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1",
                "LOG_LEVEL": "WARNING",
                # the peer has no rate limit and no report cache: neither is measured here
                "PALIER_API_RATE_TOKEN": "0",
                "PALIER_API_RATE_ADDRESS": "0",
                "PALIER_REPORTS_CACHE_SECONDS": "0",
                **MAIL_ENV,
            }
            env.pop("REDIS_URL", None)
            env.pop("DATABASE_URL", None)
            if url:
                env["DATABASE_URL"] = url
            penv = peer_env(purl, peer_dir)
            with phase("palier migrate"):
                run.palier(env, "migrate", "--no-input", "-v0")
            with phase("palier seed"):
                seeded = json.loads(_last_line(_palier_seed(env, args)))
            with phase("palier analyze"):
                analyze(url, data_dir / "palier.sqlite3")
            report.workload = {k: v for k, v in seeded.items() if k not in ("ids", "seconds")}
            report.workload["words"] = {
                w: workload.expected_count(args.tickets, s, offset=p * 7)
                for p, (w, s) in enumerate(workload.SEARCH_WORDS.items())
            }
            with phase("peer migrate"):
                peer_run(penv, "-m", "django", "migrate", "--no-input", "-v0")
            with phase("peer seed"):
                peer_seeded = json.loads(_last_line(peer_run(
                    penv, "peer_tasks.py", "seed", "--tickets", str(args.tickets), "--agents",
                    str(seeded["agents"]), "--requesters", str(seeded["requesters"]), "--seed", str(args.seed),
                )))  # fmt: skip
            with phase("peer analyze"):
                analyze(purl, peer_dir / "peer.sqlite3")
            for key in ("tickets", "comments", "agents", "requesters"):
                if seeded[key] != peer_seeded[key]:
                    raise SystemExit(f"the workloads differ: {key} {seeded[key]} vs {peer_seeded[key]}")

            with phase("palier measure"):
                token = run.make_token(env)
                port = run.free_port()
                with run.server(env, port, args.workers, 1) as base:
                    run.wait_ready(base, {"Authorization": f"Bearer {token}"})
                    _scope.update(port=port, database_url=url)
                    headers = {
                        "agent": {"Cookie": run.sign_in(base, run.AGENT)},
                        "manager": {"Cookie": run.sign_in(base, run.MANAGER)},
                        "token": {"Authorization": f"Bearer {token}", "Accept": "application/json"},
                    }
                    mine = measure_all(base, headers, palier_requests(seeded["ids"]), args, wanted, "Palier")
            with phase("peer measure"), peer_server(penv, run.free_port(), args.workers) as base:
                wait_for(base, "/login/")
                _scope["database_url"] = purl
                cookie = {"Cookie": peer_sign_in(base)}
                headers = {
                    "agent": cookie,
                    "token": {"Authorization": f"Token {peer_seeded['token']}", "Accept": "application/json"},
                }
                requests = peer_requests(peer_seeded["ids"], peer_seeded["queue"], peer_data_url(base, cookie))
                theirs = measure_all(base, headers, requests, args, wanted, PEER)
            for name in SCENARIOS:
                if name in mine or name in theirs:
                    a = side_from(mine[name]) if name in mine else Side()
                    b = side_from(theirs[name]) if name in theirs else Side()
                    report.rows.append(Row(engine, name, a, b))
            if "mail" in wanted:
                raw = messages(args.mail_messages)
                with phase("palier mail"):
                    a = palier_mail(env, raw)
                with phase("peer mail"):
                    b = peer_mail(penv, raw)
                report.rows.append(Row(engine, "mail", a, b))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            shutil.rmtree(peer_dir, ignore_errors=True)
        else:
            sys.stderr.write(f"kept {data_dir} and {peer_dir}\n")


def _palier_seed(env: dict[str, str], args: argparse.Namespace) -> str:
    script = str(PEER_DIR / "palier_seed.py")
    cmd = [sys.executable, script, "--tickets", str(args.tickets), "--seed", str(args.seed)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"seeding Palier failed ({proc.returncode})")
    return proc.stdout


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@contextmanager
def _maybe_pg(server: str, prefix: str, keep: bool) -> Iterator[str]:
    if not server:
        yield ""
        return
    with pg_database(server, prefix, keep) as url:
        yield url


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets in each system (default 100,000)")
    p.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/",
        help="the PostgreSQL server; a fresh database per system is created on it, then dropped",
    )
    p.add_argument("--engines", default="postgresql,sqlite", help="postgresql, sqlite or both, in this order")
    p.add_argument("--seconds", type=float, default=20, help="duration of each scenario (default 20)")
    p.add_argument("--max-requests", type=int, default=2_000, help="request cap per read scenario (default 2000)")
    p.add_argument("--create-requests", type=int, default=2_000, help="tickets created per system (default 2000)")
    p.add_argument("--concurrency", type=int, default=2, help="client threads for reads (default 2)")
    p.add_argument("--create-concurrency", type=int, default=8, help="client threads for creation (default 8)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers for each system (default 2)")
    p.add_argument("--mail-messages", type=int, default=1_000, help="messages through IMAP (0: skip the intake)")
    p.add_argument("--only", default="", help=f"comma-separated scenarios ({','.join(SCENARIOS)}); default all")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep", action="store_true", help="keep the databases and data folders")
    p.add_argument("--upgrade-peer", action="store_true", help="look for a newer django-helpdesk release")
    p.add_argument("--peer", default="django-helpdesk", help="pip requirement for the peer (default: latest)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"postgresql", "sqlite"}:
        raise SystemExit("--engines takes postgresql and/or sqlite")
    started = time.perf_counter()
    import importlib.metadata as meta

    report = Report(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tickets=args.tickets,
        command=" ".join([".venv/bin/python", "bench/compare.py", *(argv if argv is not None else sys.argv[1:])]),
        machine={**run.machine(), "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        versions={},
    )
    with Phases(report, "-")("peer install"):
        helpdesk = ensure_peer(args.upgrade_peer, args.peer)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    report.versions = {
        "palier": f"{meta.version('palier')} ({commit.stdout.strip() or 'no git'})",
        PEER: helpdesk,
        "django (Palier)": meta.version("django"),
        "gunicorn": meta.version("gunicorn"),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }
    if "postgresql" in engines:
        report.versions["postgresql"] = pg_version(args.database_url)
    report.notes = [
        "Both served by gunicorn, sync workers, one after the other on the same machine; same client "
        "(bench/run.py's http.client threads); each system's documented defaults otherwise.",
        "Palier: API rate limits and the one-minute report cache off (PALIER_API_RATE_*=0, "
        "PALIER_REPORTS_CACHE_SECONDS=0), no Redis; the peer has neither. The peer's mail goes to Django's "
        "dummy backend; Palier queues its notifications (not run here).",
        "queue: Palier's agent queue page; the peer's list page then the DataTables JSON request it makes "
        "(two requests, one latency). queue-data: Palier's API list (25) against the peer's DataTables JSON.",
        "search: Palier's agent search page against the peer's list page with q= plus its JSON; the words "
        f"{', '.join(WORDS)} in turn (0.1 %, 1 %, 10 % of the tickets, absent).",
        "dashboard: Palier's team dashboard (manager, 30 days, computed at each request) against the peer's "
        "dashboard (the agent's open, closed and unassigned tickets, counts per queue).",
        "mail: the same messages in a local Dovecot, drained by `palier mailfetch` (200 a call, processed "
        "inline, one process) and by the peer's `get_email`; rate = messages / wall seconds with the commands' "
        "start-ups subtracted (each timed on an empty folder); the rate with them is in the note.",
    ]
    try:
        for engine in engines:
            compare_engine(engine, args, report)
    finally:
        report.machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        report.machine["total_seconds"] = round(time.perf_counter() - started, 1)
        write(report)
    return 0 if all(r.palier.errors == 0 and r.peer.errors == 0 for r in report.rows) else 1


def write(report: Report) -> None:
    print(
        f"\n{report.tickets:,} tickets, {report.workload.get('comments', 0):,} comments, "
        f"{report.workload.get('agents', '?')} agents, {report.workload.get('requesters', '?')} requesters in each; "
        f"{', '.join(f'{k} {v}' for k, v in report.versions.items())}"
    )
    print(
        f"machine: {report.machine.get('cores')} cores, {report.machine.get('cpu')}, CPU reference loop "
        f"{report.machine.get('cpu_reference_s')} s; load average at start {report.machine.get('load_average_at_start')}"
    )
    print(table(report.rows))
    for r in report.rows:
        if r.palier.note or r.peer.note:
            print(f"  {r.engine} {r.scenario}: Palier {r.palier.note}; {PEER} {r.peer.note}")
    print("phases: " + ", ".join(f"{p['engine']} {p['phase']} {p['seconds']} s" for p in report.phases))
    run.RESULTS.mkdir(exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-compare-{report.tickets}"
    out = run.RESULTS / f"{stamp}.json"
    payload = asdict(report)
    for row, r in zip(payload["rows"], report.rows, strict=True):
        row["ratio"] = None if math.isnan(r.ratio) else round(r.ratio, 2)
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    if report.rows:
        svg = chart(report.rows, f"Palier vs {PEER}, {report.tickets:,} tickets")
        (run.RESULTS / f"{stamp}.svg").write_text(svg, encoding="utf-8")
        DOCS_CHARTS.mkdir(parents=True, exist_ok=True)
        (DOCS_CHARTS / f"compare-{report.tickets}.svg").write_text(svg, encoding="utf-8")
        print(
            f"wrote {(run.RESULTS / f'{stamp}.svg').relative_to(ROOT)} and docs/bench-results/compare-{report.tickets}.svg"
        )


if __name__ == "__main__":
    sys.exit(main())
