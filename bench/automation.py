#!/usr/bin/env python3
"""Automation benchmark: how many ticket events per second the rules consumer handles.

    .venv/bin/python bench/automation.py                                  # a temporary SQLite database
    .venv/bin/python bench/automation.py --database-url postgres://postgres@127.0.0.1:5432/

Setup (not timed): 50 active rules with varied triggers and conditions (words in the subject,
comment text, priority + channel, tags, category subtree, group, survey score), most of which
never match; one in a hundred tickets matches one rule that adds a tag (a real run: ticket lock,
update through the ticket services, history, log row). Tickets, comments and their events
(created, changed, status, requester reply, agent reply) are bulk-inserted. Timed: only the
``automation`` consumer pumping the stream in batches of 500 until it is drained. Prints JSON.
On PostgreSQL the database ``palier_automationbench_<time>`` is created and dropped afterwards.
Target: at least 1,000 events/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET = 1000.0
EVENTS_PER_TICKET = 5
MATCH_EVERY = 100


@contextmanager
def database(url: str | None, *, keep: bool) -> Iterator[str]:
    if not url:
        with tempfile.TemporaryDirectory(prefix="palier-automation-bench-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"palier_automationbench_{datetime.now(UTC):%Y%m%d%H%M%S}"
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        if keep:
            sys.stderr.write(f"kept database {name}\n")
        else:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rules(admin: Any, other: Any) -> None:
    from palier.automation import services
    from palier.automation.models import Rule
    from palier.tickets.models import Category

    Rule.objects.all().delete()
    software = Category.objects.get(slug="software")
    note = [{"type": "note", "text": "{reference}"}]
    shapes: list[tuple[str, list[dict[str, Any]]]] = [
        ("created", [{"field": "subject", "op": "contains", "value": "nomatch{n}"}]),
        ("updated", [{"field": "priority", "op": "is", "value": 1}, {"field": "channel", "op": "is", "value": "phone"}]),
        ("requester_comment", [{"field": "comment", "op": "contains", "value": "remboursement{n}"}]),
        ("agent_comment", [{"field": "tags", "op": "has", "value": "vip{n}"}]),
        ("created", [{"field": "category", "op": "under", "value": software.pk}, {"field": "kind", "op": "is", "value": "request"}]),
        ("updated", [{"field": "group", "op": "is", "value": other.pk}]),
        ("survey", [{"field": "survey_score", "op": "lte", "value": 2}]),
        ("requester_comment", [{"field": "text", "op": "contains", "value": "resiliation{n}"}]),
    ]  # fmt: skip
    for n in range(49):
        trigger, rows = shapes[n % len(shapes)]
        conditions = [
            {**row, "value": row["value"].format(n=n)} if isinstance(row["value"], str) else row for row in rows
        ]
        services.create_rule(by=admin, name=f"Rule {n}", trigger=trigger, conditions={"all": conditions}, actions=note)
    services.create_rule(
        by=admin,
        name="Rare match",
        trigger="created",
        conditions={"all": [{"field": "subject", "op": "contains", "value": "cle usb"}]},
        actions=[{"type": "add_tags", "value": "usb"}],
    )


def seed(count: int) -> tuple[int, int]:
    """Tickets, comments and events, bulk-inserted. Returns (first event id - 1, events)."""
    from palier.people import services as people
    from palier.people.models import SupportGroup, User
    from palier.tickets.models import Comment, Ticket, TicketEvent

    admin = people.create_user(email="admin@bench.test", role=User.Role.ADMIN)
    org = people.create_organisation(name="Bench", email_domain="bench.test")
    requester = people.create_user(email="req@bench.test", full_name="Requester", organisation=org)
    agent = people.create_user(email="agent@bench.test", full_name="Agent", role=User.Role.AGENT)
    desk = SupportGroup.objects.get(is_triage=True)
    other = people.create_group(name="Other", level=2)
    people.add_group_member(desk, user=agent)
    _rules(admin, other)
    now = datetime.now(UTC)
    tickets = Ticket.objects.bulk_create(
        [
            Ticket(
                number=n + 1,
                subject="Clé USB non reconnue" if n % MATCH_EVERY == 0 else f"Imprimante en panne au {n % 9}e étage",
                description="L'imprimante affiche une erreur de bourrage papier.",
                requester=requester,
                organisation=org,
                group=desk,
                priority=2 + n % 3,
                created_at=now,
                updated_at=now,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    comments = Comment.objects.bulk_create(
        [Comment(ticket=t, author=who, body="Merci, toujours en panne") for t in tickets for who in (requester, agent)],
        batch_size=1000,
    )
    start = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    events: list[TicketEvent] = []
    for index, ticket in enumerate(tickets):
        mine, theirs = comments[2 * index], comments[2 * index + 1]
        events += [
            TicketEvent(ticket=ticket, kind="created", actor=requester, data={"status": "new"}),
            TicketEvent(
                ticket=ticket, kind="changed", actor=agent, data={"field": "urgency", "old": "low", "new": "high"}
            ),
            TicketEvent(ticket=ticket, kind="status", actor=agent, data={"old": "new", "new": "in_progress"}),
            TicketEvent(ticket=ticket, kind="commented", actor=requester, data={"comment": mine.pk}),
            TicketEvent(ticket=ticket, kind="commented", actor=agent, data={"comment": theirs.pk}),
        ]
    TicketEvent.objects.bulk_create(events, batch_size=2000)
    return start, len(events)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    with database(args.database_url, keep=args.keep) as url:
        os.environ["DATABASE_URL"] = url
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from palier.automation.models import RuleRun
        from palier.tickets import stream
        from palier.tickets.models import StreamCursor

        call_command("migrate", verbosity=0)
        start, count = seed(args.tickets)
        StreamCursor.objects.update_or_create(name="automation", defaults={"position": start})
        later = datetime.now(UTC) + timedelta(minutes=5)
        began = time.perf_counter()
        handled = 0
        while True:
            done = stream.pump("automation", batch=args.batch, now=later)
            handled += done
            if done == 0:
                break
        seconds = time.perf_counter() - began
        rate = handled / seconds if seconds else 0.0
        print(
            json.dumps(
                {
                    "benchmark": "automation",
                    "database": connection.vendor,
                    "rules": 50,
                    "events": count,
                    "handled": handled,
                    "rule_runs": RuleRun.objects.count(),
                    "seconds": round(seconds, 3),
                    "events_per_s": round(rate, 1),
                    "target_events_per_s": TARGET,
                    "met": rate >= TARGET,
                },
                indent=2,
            )
        )
        return 0 if rate >= TARGET else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="", help="a PostgreSQL server URL (default: temporary SQLite)")
    parser.add_argument("--tickets", type=int, default=4000, help="tickets (5 events each)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
