#!/usr/bin/env python3
"""Problems benchmark: the demo's tickets (100,000 by default) plus 40 known errors, in a throwaway
database, then in this process (no HTTP server, so the figures are the cost of the queries and the
rendering, without the network and WSGI overhead):

- ``link-500``     linking 500 incidents to a problem in one bulk action (``link_incidents``),
                   on fresh problems each round; target < 2 s
- ``suggestions``  the known-error suggestions of the agent's ticket page
                   (``search.suggestions_for`` as the ticket view calls it, then
                   ``{% known_error_suggestions ticket known_errors %}`` rendered), over 200 open incidents;
                   target p95 ≤ 10 ms
- ``candidates``   the problem candidates (``candidates_for``: the aggregates and the incidents
                   shown under each candidate) and the page's template around them

    .venv/bin/python bench/problems.py --tickets 5000                      # SQLite, a quick look
    .venv/bin/python bench/problems.py --database-url postgres://postgres@127.0.0.1:5432/
    .venv/bin/python bench/problems.py --tickets 1000000 --database-url postgres://postgres@127.0.0.1:5432/ --keep

SQLite runs in a temporary data folder, removed afterwards. On PostgreSQL the database
``palier_prbbench_<time>`` is created on the given server and dropped afterwards (unless
``--keep``); a URL naming a database (kept by an earlier run) is used as it is, without seeding.
Only talks to 127.0.0.1; every loop is bounded by a count.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGETS = {"link-500": 2000.0, "suggestions": 10.0, "candidates": 300.0}  # ms (p95, or each run for link-500)
KNOWN_ERRORS = [
    ("Passerelle VPN : déconnexions toutes les heures", "Reconnecter avec le profil de secours."),
    ("VPN gateway drops connections every hour", "Reconnect with the backup profile."),
    ("Imprimantes du 2e étage : bourrage fantôme", "Éteindre l'imprimante 30 secondes puis vider le bac."),
    ("Outlook crashes when opening shared calendars", "Start Outlook in safe mode and remove the shared calendar."),
    ("Certificat expiré sur le proxy", "Importer le nouveau certificat depuis le portail."),
    ("Wifi invité lent au rez-de-chaussée", "Utiliser le réseau filaire de la salle."),
    ("Teams: no sound after docking the laptop", "Choose the headset again in Teams' device settings."),
    ("Mot de passe verrouillé après la mise à jour", "Réinitialiser le mot de passe depuis le portail."),
]


@contextmanager
def database(url: str | None, *, keep: bool) -> Iterator[tuple[str, bool]]:
    """(the database URL, whether to seed it)."""
    if not url:
        folder = tempfile.mkdtemp(prefix="palier-prbbench-")
        os.environ["PALIER_DATA_DIR"] = folder
        try:
            yield f"sqlite:///{folder}/palier.sqlite3", True
        finally:
            if keep:
                sys.stderr.write(f"kept {folder}\n")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg

    parts = urlsplit(url)
    if parts.path.strip("/"):
        yield url, False
        return
    name = f"palier_prbbench_{datetime.now(UTC):%Y%m%d%H%M%S}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, "")), True
    finally:
        if keep:
            sys.stderr.write(f"kept database {name}\n")
        else:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed_problems(rng: random.Random) -> None:
    """40 known errors through the services, each with a category and some with an asset."""
    from palier.assets.models import Asset
    from palier.people.models import User
    from palier.problems import services
    from palier.tickets.models import Category

    manager = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk").first()
    categories = list(Category.objects.filter(is_active=True))
    assets = list(Asset.objects.filter(ticket_links__isnull=False).distinct().values_list("pk", flat=True)[:200])
    for n in range(40):
        title, workaround = KNOWN_ERRORS[n % len(KNOWN_ERRORS)]
        problem = services.create_problem(
            by=manager,
            title=f"{title} ({n})",
            description=title,
            category=rng.choice(categories) if categories else None,
            root_cause="Found by the bench.",
            workaround=workaround,
            asset_ids=[rng.choice(assets)] if assets and n % 2 else (),
        )
        services.transition_problem(problem, to="known_error", by=manager)


def measure(fn: Callable[[], object], rounds: int) -> list[float]:
    fn()  # warm up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    with database(args.database_url, keep=args.keep) as (url, fresh):
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.template import Context, Template
        from django.template.loader import render_to_string
        from django.test import RequestFactory

        from palier.people.models import User
        from palier.problems import candidates, services
        from palier.problems import search as problem_search
        from palier.problems.models import Problem, ProblemIncident
        from palier.tickets import permissions as ticket_permissions
        from palier.tickets.models import Ticket

        call_command("migrate", verbosity=0)
        rng = random.Random(42)
        if fresh:
            started = time.perf_counter()
            call_command("demo", tickets=args.tickets, seed=42, verbosity=0)
            seed_problems(rng)
            print(f"seeded {args.tickets} tickets and 40 known errors in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        # an administrator: a problem manager who sees every ticket
        manager = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk").first()
        results: dict[str, list[float]] = {}

        # (a) link 500 incidents, on a fresh problem each round
        free = list(
            Ticket.objects.filter(
                ticket_permissions.visible(manager), kind=Ticket.Kind.INCIDENT, problem_link__isnull=True
            )
            .order_by("-id")
            .values_list("pk", flat=True)[: 500 * args.link_rounds]
        )
        results["link-500"] = []
        for r in range(args.link_rounds):
            batch = free[r * 500 : (r + 1) * 500]
            if len(batch) < 500:
                break
            problem = services.create_problem(by=manager, title=f"Bench bulk link {r}")
            start = time.perf_counter()
            services.link_incidents(problem, batch, by=manager)
            results["link-500"].append((time.perf_counter() - start) * 1000)

        # (b) the suggestions tag on open incidents not linked to a problem
        open_ids = list(
            Ticket.objects.filter(
                ticket_permissions.visible(manager), kind=Ticket.Kind.INCIDENT, problem_link__isnull=True
            )
            .exclude(status__in=["resolved", "closed", "cancelled"])
            .order_by("-id")
            .values_list("pk", flat=True)[:200]
        )
        tickets = list(Ticket.objects.filter(pk__in=open_ids).select_related("category"))
        request = RequestFactory().get("/agent/tickets/")
        request.user = manager
        tag = Template("{% load known_error_tags %}{% known_error_suggestions ticket known_errors %}")

        def panel(ticket: Ticket) -> str:  # what the ticket page costs: the view's read, then the tag
            found = problem_search.suggestions_for(manager, ticket)
            return tag.render(Context({"request": request, "ticket": ticket, "known_errors": found, "csrf_token": "x"}))

        shown = 0
        samples: list[float] = []
        for ticket in tickets[:20]:  # warm up: the panel's template and the translation catalogs load once
            panel(ticket)
        for ticket in (tickets * (args.rounds // max(1, len(tickets)) + 1))[: args.rounds]:
            start = time.perf_counter()
            html = panel(ticket)
            samples.append((time.perf_counter() - start) * 1000)
            shown += "known-error-suggestions" in html
        results["suggestions"] = samples
        print(f"suggestions shown on {shown} of {len(samples)} ticket pages")

        # (c) the candidates: the reads, then the page's template around them
        results["candidates"] = measure(lambda: candidates.candidates_for(manager), args.candidate_rounds)
        found = candidates.candidates_for(manager)
        page_request = RequestFactory().get("/agent/problems/candidates/")
        page_request.user = manager

        def page() -> object:
            return render_to_string(
                "agent/problem_candidates/list.html",
                {"found": candidates.candidates_for(manager), "settings_errors": {}},
                request=page_request,
            )

        results["candidates page"] = measure(page, args.candidate_rounds)
        print(
            f"candidates: {len(found.assets)} assets, {len(found.categories)} categories; "
            f"{Problem.objects.count()} problems, {ProblemIncident.objects.count()} linked incidents"
        )

        print(f"database: {connection.vendor}, load average while measuring: {os.getloadavg()[0]:.1f}")
        print(f"{'scenario':<18}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  target")
        failed = False
        for name, values in results.items():
            if not values:
                print(f"{name:<18}{0:>6}  (not enough data)")
                continue
            worst = max(values) if name == "link-500" else p95(values)
            target = TARGETS.get(name.split()[0], 0)
            met = worst <= target if target else True
            failed |= not met
            goal = f"≤ {target:.0f} ms " if target else ""
            print(
                f"{name:<18}{len(values):>6}{statistics.median(values):>9.1f}{p95(values):>9.1f}{max(values):>9.1f}"
                f"  {goal}{'met' if met else 'MISSED'}"
            )
        return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="PostgreSQL server (default: SQLite in a temp folder)")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200, help="ticket pages for the suggestions")
    parser.add_argument("--link-rounds", type=int, default=3, help="bulk links of 500 incidents")
    parser.add_argument("--candidate-rounds", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
