#!/usr/bin/env python3
"""Palier load test: simulated agents and requesters on the HTML pages, mail arriving, for minutes.

    .venv/bin/python bench/load.py                       # 200 agents, 500 requesters, 10 min, 100,000 tickets
    .venv/bin/python bench/load.py --agents 20 --requesters 50 --minutes 1 --keep
    .venv/bin/python bench/load.py --no-seed --database-url postgres://postgres@127.0.0.1:5432/palier_bench_…

Seeds a fresh PostgreSQL database as bench/run.py does (or reuses one with --no-seed), makes sure
there are enough agent and requester accounts, starts gunicorn, a worker, the scheduler and a local
Dovecot (the desk's IMAP mailbox, polled by the scheduler's mail-poll job), then runs locust
(bench/locustfile.py) and feeds messages into the mailbox at --mail-rate per second during the
measured period. Reports per page: count, errors, p50/p95/p99, and the CPU each process group used
per request. Writes bench/results/<time>-load-<agents>a<requesters>r.json; exits 1 on any error.
See bench/README.md ("Load test"). Only talks to 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from types import SimpleNamespace

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from run import BIN, PALIER, ROOT, database, free_port, machine, palier, prepare, server

RESULTS = Path(__file__).resolve().parent / "results"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
PASSWORD = "palier-demo"  # the demo accounts' password; the accounts made here get the same
AGENT_DOMAIN = "load.palier.test"
MAIL_DOMAINS = [f"client{n}.load.test" for n in range(20)]


@dataclass
class PageResult:
    name: str
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float


@dataclass
class LoadRun:
    started_at: str
    tickets: int
    machine: dict[str, object]
    settings: dict[str, object]
    seed_seconds: float | None = None
    measured_seconds: float = 0.0
    load_before: float = 0.0
    pages: list[PageResult] = field(default_factory=list)
    ramp_up: list[PageResult] = field(default_factory=list)
    total: PageResult | None = None
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    mail: dict[str, object] = field(default_factory=dict)
    backlog: dict[str, object] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- processes and their CPU --------------------------------------------------------------------------------


def cpu_by_group() -> dict[str, tuple[str, float]]:
    """CPU seconds used so far by each process of the test, with its group."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[str, tuple[str, float]] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        # its own time and that of its children that ended (gunicorn workers, RQ work horses, backends)
        used = sum(int(f) for f in fields[11:15]) / tick
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if b"gunicorn" in cmd:
            group = "server"
        elif name.startswith("postgres"):
            group = "database"
        elif b"palier worker" in cmd or b"palier.cli worker" in cmd or b"rqworker" in cmd:
            group = "worker"
        elif b"palier scheduler" in cmd or b"palier.cli scheduler" in cmd:
            group = "scheduler"
        elif b"locust" in cmd:
            group = "locust"
        elif name.startswith(("redis", "dovecot", "imap", "anvil", "auth", "log", "config")) or int(pid) == os.getpid():
            group = "mail+redis"  # Dovecot's processes, Redis and this script (the mail feed)
        else:
            continue
        found[pid] = (group, used)
    return found


def cpu_between(before: dict[str, tuple[str, float]], after: dict[str, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds per group between two readings. A process that ended meanwhile was counted
    whole in its parent's children time (same group): what it had used before is taken off."""
    groups: dict[str, float] = {}
    for pid, (group, used) in after.items():
        groups[group] = groups.get(group, 0.0) + used - before.get(pid, (group, 0.0))[1]
    for pid, (group, used) in before.items():
        if pid not in after:
            groups[group] = groups.get(group, 0.0) - used
    return {k: round(v, 1) for k, v in sorted(groups.items())}


@contextmanager
def background(env: dict[str, str], *args: str, log: str = "") -> Iterator[subprocess.Popen[bytes]]:
    """``palier ARGS`` running for the duration of the block (its output in the data folder)."""
    handle = open(Path(env["PALIER_DATA_DIR"]) / f"{log or args[0]}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([PALIER, *args], env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        handle.close()


def wait_ready(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/accounts/login/", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server at {base} did not answer the sign-in page with 200 in {timeout:.0f} s")


# --- data ---------------------------------------------------------------------------------------------------

ACCOUNTS_CODE = """
import json
from django.db.models import Count
from palier.people import services
from palier.people.models import Membership, SupportGroup, User

agents_wanted, requesters_wanted = {agents}, {requesters}
demo = User.objects.filter(email='agent@demo.palier.test').values_list('password', flat=True).first()
agents = list(
    User.objects.filter(role='agent', is_active=True, membership__isnull=False)
    .distinct().order_by('id').values_list('email', flat=True)[:agents_wanted]
)
groups = list(SupportGroup.objects.filter(is_vendor=False).order_by('level', 'id'))
n = 0
while len(agents) < agents_wanted:
    n += 1
    email = f'agent{{n:04d}}@{domain}'
    if User.objects.filter(email=email).exists():
        continue
    user = services.create_user(email=email, full_name=f'Agent {{n}}', role='agent', language='en')
    user.password = demo
    user.save(update_fields=['password'])
    services.add_group_member(groups[n % len(groups)], user=user)
    agents.append(email)
requesters = list(
    User.objects.filter(role='requester', is_active=True, organisation__isnull=False)
    .order_by('id').values_list('email', flat=True)[:requesters_wanted]
)
n = 0
while len(requesters) < requesters_wanted:
    n += 1
    email = f'requester{{n:04d}}@{domain}'
    if User.objects.filter(email=email).exists():
        continue
    user = services.create_user(email=email, full_name=f'Requester {{n}}', role='requester', language='en')
    user.password = demo
    user.save(update_fields=['password'])
    requesters.append(email)
print(json.dumps({{'agents': agents, 'requesters': requesters}}))
"""

MAILBOX_CODE = """
from palier.mail.models import Mailbox
from palier.people.models import SupportGroup
box, _ = Mailbox.objects.get_or_create(name='load', defaults={{'address': 'desk@load.palier.test'}})
box.imap_host, box.imap_port, box.imap_tls, box.imap_user = '127.0.0.1', {port}, False, '{user}'
box.poll_interval_seconds, box.is_active, box.consecutive_failures, box.last_attempt_at = 15, True, 0, None
box.imap_uid_folder, box.imap_uidvalidity, box.imap_last_uid = '', None, 0
box.target_group = SupportGroup.objects.filter(is_triage=True).first()
box.set_password('{password}')
box.save()
print(box.pk)
"""

MAIL_COUNT_CODE = """
import json
from django.db.models import Count
from palier.mail.models import InboundMessage
rows = InboundMessage.objects.filter(message_id__startswith='load-{run}-')
states = dict(rows.values_list('state').annotate(n=Count('id')).values_list('state', 'n'))
delays = []
for mid, ticket_at, comment_at in rows.values_list('message_id', 'ticket__created_at', 'comment__created_at'):
    sent = int(mid.split('-')[3].split('@')[0]) / 1000
    done = comment_at or ticket_at
    if done is not None:
        delays.append(done.timestamp() - sent)
print(json.dumps({{'states': states, 'delays': delays}}))
"""


def accounts(env: dict[str, str], agents: int, requesters: int) -> dict[str, list[str]]:
    code = ACCOUNTS_CODE.format(agents=agents, requesters=requesters, domain=AGENT_DOMAIN)
    return dict(json.loads(palier(env, "shell", "-c", code, quiet=True).strip().splitlines()[-1]))


def ticket_count(env: dict[str, str]) -> int:
    code = "from palier.tickets.models import Ticket; print(Ticket.objects.count())"
    return int(palier(env, "shell", "-c", code, quiet=True).strip().splitlines()[-1])


# --- mail ---------------------------------------------------------------------------------------------------


class MailFeed(threading.Thread):
    """Appends messages to the desk's IMAP folder at ``rate`` per second (a fixed schedule, so a slow
    append does not lower the rate): two thirds new requests, one third replies to earlier ones.
    The scheduler's mail-poll job fetches them; the worker turns them into tickets and comments."""

    def __init__(self, port: int, user: str, password: str, rate: float, run_id: str) -> None:
        super().__init__(daemon=True)
        self.port, self.user, self.password, self.rate, self.run_id = port, user, password, rate, run_id
        self.stop = threading.Event()
        self.sent = 0
        self.failures: list[str] = []
        self.openers: list[tuple[str, str, str]] = []

    def message(self, i: int) -> bytes:
        now_ms = int(time.time() * 1000)
        mid = f"load-{self.run_id}-{i}-{now_ms}@load.test"
        date = formatdate(localtime=False)
        if i % 3 == 2 and self.openers:
            parent, sender, subject = self.openers[(i * 7919) % len(self.openers)]
            head = f"Subject: Re: {subject}\r\nIn-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
            body = "Merci, c'est toujours le cas ce matin.\r\n\r\n> Bonjour, pouvez-vous redémarrer ?\r\n"
        else:
            sender = f"user{i % 400}@{MAIL_DOMAINS[i % len(MAIL_DOMAINS)]}"
            subject = f"Problème de messagerie n°{i}" if i % 2 else f"Printer jammed on floor {i % 7}"
            self.openers.append((mid, sender, subject))
            head = f"Subject: {subject}\r\n"
            body = "Bonjour,\r\n\r\nDepuis ce matin je ne peux plus travailler. Merci de votre aide.\r\n"
        head = (
            f"From: {sender}\r\nTo: desk@load.palier.test\r\n{head}Message-ID: <{mid}>\r\nDate: {date}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        )
        return (head + body).encode()

    def run(self) -> None:
        from imap_tools import MailBoxUnencrypted

        started = time.monotonic()
        client = None
        while not self.stop.is_set():
            due = started + self.sent / self.rate
            pause = due - time.monotonic()
            if pause > 0 and self.stop.wait(pause):
                break
            try:
                if client is None:
                    client = MailBoxUnencrypted("127.0.0.1", port=self.port).login(self.user, self.password)
                client.append(self.message(self.sent), "INBOX", flag_set=())
            except Exception as exc:  # counted and reported; the feed goes on
                self.failures.append(f"append #{self.sent}: {type(exc).__name__}: {exc}")
                client = None
            self.sent += 1
        if client is not None:
            client.logout()


class Sampler(threading.Thread):
    """Every 10 s: the event stream's backlog, the task queue and the mail not yet processed (the
    largest values are reported: does the background work keep up?)."""

    def __init__(self, url: str, redis_url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.redis_url = url, redis_url
        self.stop = threading.Event()
        self.samples: list[dict[str, int]] = []

    def sample(self) -> dict[str, int]:
        import psycopg
        import redis

        with psycopg.connect(self.url) as conn:
            stream = conn.execute(
                "SELECT coalesce((SELECT max(id) FROM tickets_ticketevent), 0)"
                " - coalesce((SELECT min(position) FROM tickets_streamcursor), 0)"
            ).fetchone()
            mail = conn.execute("SELECT count(*) FROM mail_inboundmessage WHERE state = 'received'").fetchone()
        queue = redis.Redis.from_url(self.redis_url).llen("rq:queue:default")
        return {"stream_events": int(stream[0] if stream else 0), "mail_waiting": int(mail[0] if mail else 0),
                "queued_tasks": int(queue)}  # fmt: skip

    def run(self) -> None:
        while not self.stop.wait(10):
            try:
                self.samples.append(self.sample())
            except Exception as exc:  # a sample lost is not the test's failure
                sys.stderr.write(f"sampler: {exc}\n")

    def summary(self) -> dict[str, object]:
        if not self.samples:
            return {}
        keys = self.samples[0].keys()
        return {
            "max": {k: max(s[k] for s in self.samples) for k in keys},
            "last": self.samples[-1],
            "samples": len(self.samples),
        }


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- locust -------------------------------------------------------------------------------------------------


def locust_binary(given: str) -> str:
    for candidate in (given, str(BIN / "locust"), shutil.which("locust") or "", "/tmp/locustenv/bin/locust"):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("locust not found: install the dev extra (pip install -e '.[dev]') or pass --locust PATH")


def read_stats(path: Path, seconds: float) -> tuple[list[PageResult], PageResult | None]:
    pages, total = [], None
    if not path.exists():
        return pages, total
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            count, failures = int(row["Request Count"]), int(row["Failure Count"])

            def pct(key: str, row: dict[str, str] = row) -> float:
                value = row.get(key, "N/A")
                return float(value) if value not in ("N/A", "") else float("nan")

            result = PageResult(
                row["Name"],
                count - failures,
                failures,
                pct("50%"),
                pct("95%"),
                pct("99%"),
                round(count / seconds, 2) if seconds else 0.0,
            )
            if row["Name"] == "Aggregated":
                total = result
            else:
                pages.append(result)
    return pages, total


def failures_of(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [f"{r['Occurrences']}x {r['Method']} {r['Name']}: {r['Error'][:300]}" for r in csv.DictReader(handle)]


def run_locust(
    args: argparse.Namespace, base: str, work: Path, people: dict[str, list[str]]
) -> subprocess.Popen[bytes]:
    config = {
        "password": PASSWORD,
        "agents": people["agents"],
        "requesters": people["requesters"],
        "agent_count": args.agents,
        "requester_count": args.requesters,
        "agent_think": list(args.agent_think),
        "requester_think": list(args.requester_think),
        "minutes": args.minutes,
        "mark": str(work / "measuring"),
        "ramp_stats": str(work / "ramp.json"),
        "dump": str(work),  # pages of refused actions, to read afterwards
    }
    (work / "config.json").write_text(json.dumps(config), encoding="utf-8")
    users = args.agents + args.requesters
    limit = int(args.minutes * 60 + users / args.spawn_rate + 600)  # a bound, should the quit not come
    cmd = [
        locust_binary(args.locust), "-f", str(LOCUSTFILE), "--headless", "--host", base,
        "-u", str(users), "-r", str(args.spawn_rate), "-t", f"{limit}s", "--csv", str(work / "locust"),
        "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "20",
    ]  # fmt: skip
    env = {**os.environ, "PALIER_LOAD_CONFIG": str(work / "config.json")}
    log = open(work / "locust.log", "wb")  # noqa: SIM115
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


# --- the test -----------------------------------------------------------------------------------------------


def load(args: argparse.Namespace, env: dict[str, str], run: LoadRun, work: Path) -> None:
    holder = SimpleNamespace(seed_seconds=None)
    prepare(args, env, holder)  # type: ignore[arg-type]
    run.seed_seconds = holder.seed_seconds
    people = accounts(env, args.agents, args.requesters)
    if len(people["agents"]) < args.agents or len(people["requesters"]) < args.requesters:
        raise SystemExit("could not find or make enough accounts")
    run.tickets = ticket_count(env)
    from palier.mail.tests import dovecot

    run_id = datetime.now(UTC).strftime("%H%M%S")
    with dovecot.start() as imap_port:
        palier(env, "shell", "-c", MAILBOX_CODE.format(port=imap_port, user=dovecot.USER, password=dovecot.PASSWORD),
               quiet=True)  # fmt: skip
        with (
            server(env, free_port(), args.workers, args.threads) as base,
            background(env, "scheduler", "--verbosity", "0"),
            ExitStack() as workers,
        ):
            for n in range(args.task_workers):
                workers.enter_context(background(env, "worker", log=f"worker{n + 1}"))
            wait_ready(base)
            measure(args, env, run, work, base, people, imap_port, run_id)


def mail_summary(env: dict[str, str], run: LoadRun, feed: MailFeed, run_id: str) -> None:
    """What became of the messages fed: counts by state, the delay from sending to the ticket or
    comment, and a failure for each message lost, quarantined or still waiting."""
    # the mail sent in the last seconds: give the poll (15 s) and the worker time to take it
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        counts = json.loads(palier(env, "shell", "-c", MAIL_COUNT_CODE.format(run=run_id), quiet=True).splitlines()[-1])
        if sum(counts["states"].values()) >= feed.sent and not counts["states"].get("received"):
            break
        time.sleep(5)
    delays = counts["delays"]
    run.mail = {
        "sent": feed.sent,
        "rate_per_s": round(feed.sent / run.measured_seconds, 2) if run.measured_seconds else 0,
        "append_failures": len(feed.failures),
        "states": counts["states"],
        "not_fetched": max(0, feed.sent - sum(counts["states"].values())),
        "delay_p50_s": round(quantile(delays, 0.5), 1),
        "delay_p95_s": round(quantile(delays, 0.95), 1),
    }
    run.failures += feed.failures[:20]
    if run.mail["not_fetched"]:
        run.failures.append(f"{run.mail['not_fetched']} messages sent were not fetched")
    for state in ("quarantined", "failed", "received"):
        if counts["states"].get(state):
            run.failures.append(f"{counts['states'][state]} messages {state}")


def measure(
    args: argparse.Namespace,
    env: dict[str, str],
    run: LoadRun,
    work: Path,
    base: str,
    people: dict[str, list[str]],
    imap_port: int,
    run_id: str,
) -> None:
    from palier.mail.tests import dovecot

    locust = run_locust(args, base, work, people)
    mark = work / "measuring"
    sys.stderr.write(f"ramping up {args.agents + args.requesters} users at {args.spawn_rate}/s…\n")
    while not mark.exists():
        if locust.poll() is not None:
            raise SystemExit(f"locust stopped before the measured period: see {work / 'locust.log'}")
        time.sleep(0.5)
    run.load_before = round(os.getloadavg()[0], 2)
    feed = MailFeed(imap_port, dovecot.USER, dovecot.PASSWORD, args.mail_rate, run_id)
    sampler = Sampler(env["DATABASE_URL"], env["REDIS_URL"])
    cpu_before, started = cpu_by_group(), time.monotonic()
    if args.mail_rate > 0:
        feed.start()
    sampler.start()
    sys.stderr.write(f"measuring for {args.minutes} min…\n")
    end = float(mark.read_text(encoding="utf-8") or time.time()) + args.minutes * 60
    while time.time() < end and locust.poll() is None:
        time.sleep(min(1.0, max(0.0, end - time.time())))
    run.measured_seconds = round(time.monotonic() - started, 1)
    cpu_after = cpu_by_group()  # before locust quits (its own CPU would move to this process)
    feed.stop.set()
    try:
        locust.wait(timeout=120)
    except subprocess.TimeoutExpired:
        locust.terminate()
        locust.wait(timeout=60)
        run.failures.append("locust did not stop on time")
    if feed.is_alive():
        feed.join(timeout=30)
    run.cpu_seconds = cpu_between(cpu_before, cpu_after)
    mail_summary(env, run, feed, run_id)
    sampler.stop.set()
    run.backlog = sampler.summary()
    run.pages, run.total = read_stats(work / "locust_stats.csv", run.measured_seconds)
    run.failures += failures_of(work / "locust_failures.csv")
    if (work / "ramp.json").exists():
        ramp = json.loads((work / "ramp.json").read_text(encoding="utf-8"))
        run.ramp_up = [PageResult(**r) for r in ramp["pages"]]
        run.failures += ramp["failures"]
    if locust.returncode not in (0, None) and not run.failures:
        run.failures.append(f"locust exited with {locust.returncode}: see {work / 'locust.log'}")
    served = sum(p.requests + p.errors for p in run.pages)
    if served:
        run.cpu_ms_per_request = {k: round(v / served * 1000, 2) for k, v in run.cpu_seconds.items()}


def table(run: LoadRun) -> str:
    s = run.settings
    lines = [
        f"{run.tickets:,} tickets on PostgreSQL; {s['agents']} agents (think {s['agent_think']} s), "
        f"{s['requesters']} requesters (think {s['requester_think']} s), mail {s['mail_rate']}/s; "
        f"gunicorn {s['workers']} workers x {s['threads']} threads, {s['task_workers']} task workers; measured {run.measured_seconds:.0f} s; "
        f"load average before {run.load_before}; CPU reference {run.machine.get('cpu_reference_s')} s",
        f"{'page':<42} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'req/s':>7}",
    ]
    for p in [*run.pages, *([run.total] if run.total else [])]:
        lines.append(
            f"{p.name:<42} {p.requests:>8} {p.errors:>6} {p.p50_ms:>7.0f} {p.p95_ms:>7.0f} {p.p99_ms:>7.0f} {p.rps:>7.2f}"
        )
    if run.ramp_up:
        lines.append("ramp-up (not in the measured period):")
        for p in run.ramp_up:
            lines.append(
                f"  {p.name:<40} {p.requests:>8} {p.errors:>6} {p.p50_ms:>7.0f} {p.p95_ms:>7.0f} {p.p99_ms:>7.0f}"
            )
    cpu = ", ".join(
        f"{k} {v:.1f} s ({run.cpu_ms_per_request.get(k, 0):.1f} ms/req)" for k, v in run.cpu_seconds.items()
    )
    lines.append(f"CPU over the measured period: {cpu}")
    m = run.mail
    if m:
        lines.append(
            f"mail: {m['sent']} sent ({m['rate_per_s']}/s), states {m['states']}, append failures "
            f"{m['append_failures']}, not fetched {m['not_fetched']}; sent → ticket/comment p50 "
            f"{m['delay_p50_s']} s, p95 {m['delay_p95_s']} s"
        )
    if run.backlog:
        lines.append(
            f"background work, largest backlog seen: {run.backlog.get('max')}; at the end: {run.backlog.get('last')}"
        )
    lines.append(f"errors: {len(run.failures)}" + ("" if not run.failures else "; first: " + run.failures[0]))
    return "\n".join(lines)


def think_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    bounds = (float(low), float(high or low))
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError("expected MIN,MAX seconds with 0 ≤ MIN ≤ MAX")
    return bounds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tickets", type=int, default=100_000, help="tickets to seed (default 100,000)")
    p.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/",
        help="PostgreSQL server (a fresh database is created on it); with --no-seed, the database to use",
    )
    p.add_argument("--no-seed", action="store_true", help="use the database named in --database-url as it is")
    p.add_argument("--keep", action="store_true", help="keep the database and the data folder afterwards")
    p.add_argument("--agents", type=int, default=200, help="simulated agents (default 200)")
    p.add_argument("--requesters", type=int, default=500, help="simulated requesters (default 500)")
    p.add_argument("--minutes", type=float, default=10, help="measured period, after the ramp-up (default 10)")
    p.add_argument("--mail-rate", type=float, default=5, help="messages per second into the mailbox (default 5)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4, as palier up)")
    p.add_argument(
        "--task-workers", type=int, default=2, help="`palier worker` processes (default 2, as docs/deployment.md)"
    )
    p.add_argument("--spawn-rate", type=float, default=4, help="users started per second in the ramp-up (default 4)")
    p.add_argument("--agent-think", type=think_range, default=(5, 15), help="agent think time MIN,MAX s (5,15)")
    p.add_argument(
        "--requester-think", type=think_range, default=(20, 40), help="requester think time MIN,MAX s (20,40)"
    )
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="Redis for the queue and cache (emptied)")
    p.add_argument("--locust", default="", help="the locust command (default: the virtualenv's, then PATH)")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = {k: v for k, v in vars(args).items() if k not in ("database_url", "locust")}
    run = LoadRun(datetime.now(UTC).isoformat(timespec="seconds"), args.tickets, machine(), settings)
    work = Path(tempfile.mkdtemp(prefix="palier-load-"))
    (work / "static").mkdir()
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # this test's own database number: a clean queue
    with database(args.database_url, keep=args.keep, reuse=args.no_seed) as url:
        env = {
            **os.environ,
            "PALIER_DATA_DIR": str(work),
            "PYTHONPATH": str(ROOT),  # this tree's code, whichever tree the virtualenv was installed from
            "DATABASE_URL": url,
            "REDIS_URL": args.redis_url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            # the feed is a flood from few domains by design; the intake's limits would quarantine it
            "PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR": "0",
            "PALIER_MAIL_TICKETS_PER_HOUR": "0",
        }
        os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "palier.settings"})
        try:
            load(args, env, run, work)
        finally:
            if args.keep:
                sys.stderr.write(f"kept the data folder {work}\n")
            else:
                shutil.rmtree(work, ignore_errors=True)
    print(table(run))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-load-{args.agents}a{args.requesters}r.json"
    out.write_text(json.dumps(asdict(run), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
