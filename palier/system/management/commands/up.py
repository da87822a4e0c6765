"""``palier up``: migrate, seed the demo on first start when asked (``--demo``), start the web server,
a worker and the scheduler of periodic jobs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.people.models import User
from palier.system.demo_accounts import DEMO_PASSWORD, exposed_demo_accounts


class Command(BaseCommand):
    help = "Start Palier: web server, worker and scheduler; with --demo, demo data on first start."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("PALIER_BIND", "127.0.0.1:8000"))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--web-threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Seed demo data on first start: accounts with a published password, for trying Palier on "
            "this machine only.",
        )
        parser.add_argument("--demo-tickets", type=int, default=500, help="Tickets to seed with --demo.")
        parser.add_argument("--no-demo", action="store_true", help="Do not seed demo data (the default).")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready: " + _describe_db())
        if settings.PALIER_IDENTITY_CONFIG:  # sign-in providers from the file, before anyone signs in
            call_command("identity", "load-config", stdout=self.stdout)
        if options["demo"] and not options["no_demo"] and not User.objects.exists():
            self.stdout.write(f"First start: seeding {options['demo_tickets']} demo tickets…")
            call_command("demo", tickets=options["demo_tickets"], verbosity=0)
        _metrics_folder()
        palier = [sys.executable, "-m", "palier.cli"]
        worker = subprocess.Popen([*palier, "worker"])  # noqa: S603
        scheduler = subprocess.Popen([*palier, "scheduler", "--verbosity", "0"])  # noqa: S603
        web = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "palier.wsgi:application",
                "--bind",
                options["bind"],
                "--workers",
                str(options["web_workers"]),
                "--threads",
                str(options["web_threads"]),
                *_access_log(),
                "--graceful-timeout",
                "5",
            ]
        )
        self._banner(options["bind"])
        self._warn_about_demo_accounts()
        self._supervise([web, worker, scheduler])

    def _banner(self, bind: str) -> None:
        lines = [f"Palier is running at http://{bind}/", "Worker and scheduler of periodic jobs are running.", ""]
        lines += _demo_logins()
        if not User.objects.exists():
            lines += ["No account yet: create an administrator with `palier createsuperuser`."]
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            lines += ["", f"Outgoing mail is written to {settings.EMAIL_FILE_PATH} (set EMAIL_BACKEND to send it)."]
        lines += ["", "Press Ctrl+C to stop."]
        self.stdout.write("\n".join(lines))

    def _warn_about_demo_accounts(self) -> None:
        """At every start while accounts with the demo's published password exist."""
        count = exposed_demo_accounts()
        if not count:
            return
        lines = [
            "",
            "*" * 78,
            f"WARNING: {count:,} accounts can be signed in to with the published demo password “{DEMO_PASSWORD}”.",
            "Never expose this Palier to a network while they exist. To lock them: palier demo --lock",
            "(palier check --deploy fails until then).",
            "*" * 78,
        ]
        self.stderr.write("\n".join(lines), style_func=self.style.WARNING)

    def _supervise(self, processes: list[subprocess.Popen[bytes]]) -> None:
        def stop(_signum: int, _frame: Any) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            self.stderr.write("A Palier process stopped; shutting down.")
        except KeyboardInterrupt:
            pass
        finally:
            for p in processes:
                if p.poll() is None:
                    p.terminate()
            for p in processes:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def _demo_logins() -> list[str]:
    """The demo logins, when the demo people exist. Asked of the demo app by command name: the
    product does not import it, and works without it."""
    out = StringIO()
    try:
        call_command("demo", logins=True, stdout=out)
    except CommandError:  # the demo app is not installed
        return []
    return out.getvalue().splitlines()


def _access_log() -> list[str]:
    """gunicorn's access log in text mode; with JSON logs Palier writes its own line per request
    (``palier.request``, with the request id), so gunicorn's would say it twice."""
    return [] if settings.PALIER_LOG_FORMAT == "json" else ["--access-logfile", "-"]


def _metrics_folder() -> None:
    """The web processes and the worker write their Prometheus counts into one folder, which
    ``/metrics`` adds up (prometheus-client's multiprocess mode); emptied at each start, as the
    counts of processes that no longer run must not be added to the new ones."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.DATA_DIR / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # inherited by the processes started below


def _describe_db() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"{db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or 'localhost'}/{db['NAME']}"
