"""Server CPU of the agent ticket page, in-process (Django's test client, no network, no server).

Builds (once) a ticket with 10 comments and about 20 events, signs an agent in, and prints the
queries per page, their database time, and the median and p95 of ``time.process_time`` over many
requests. ``--profile`` adds cProfile's top functions, ``--templates`` the time per template
(inclusive), ``--calls`` Python function calls per page (a figure that does not depend on the load
of a shared machine).

It WRITES its ticket: run it on a scratch database of your own, migrated first::

    DATABASE_URL=sqlite:////tmp/palier_tp.sqlite3 palier migrate
    DATABASE_URL=sqlite:////tmp/palier_tp.sqlite3 python bench/ticket_page_cpu.py --rounds 200
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from collections import defaultdict
from typing import Any

SUBJECT = "Printer on floor 3 jams (ticket page benchmark)"


def _setup() -> tuple[Any, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    from django.test import Client
    from django.urls import reverse

    from palier.people import services as people
    from palier.people.models import SupportGroup, User
    from palier.tickets import services
    from palier.tickets.models import Ticket
    from palier.tickets.tests.builders import make_ticket

    agent = User.objects.filter(email="ticket-page-agent@bench.test").first()
    if agent is None:
        agent = people.create_user(email="ticket-page-agent@bench.test", full_name="Ada Agent", role=User.Role.AGENT)
        people.create_user(email="ticket-page-requester@bench.test", full_name="Rémi Requester")
    requester = User.objects.get(email="ticket-page-requester@bench.test")
    ticket = Ticket.objects.filter(subject=SUBJECT).first()
    if ticket is None:
        ticket = make_ticket(requester, subject=SUBJECT)
        if ticket.group_id is None:
            ticket.group = SupportGroup.objects.get_or_create(name="Bench desk")[0]
            ticket.save(update_fields=["group"])
    group = ticket.group
    assert group is not None
    if not agent.support_groups.filter(pk=group.pk).exists():
        people.add_group_member(group, user=agent)
    if not ticket.comments.exists():
        services.update_ticket(ticket, by=agent, expected_version=None, changes={"tags": ["printer", "floor3"]})
        for i in range(10):
            author = requester if i % 2 else agent
            services.comment_on_ticket(ticket, by=author, body=f"Message {i} " + "words " * 40, internal=i == 4)
        for i in range(8):
            services.update_ticket(
                ticket, by=agent, expected_version=None, changes={"urgency": ["low", "medium", "high"][i % 3]}
            )
        for i in range(3):
            make_ticket(requester, subject=f"Other request {i}")
    client = Client()
    client.force_login(agent)
    return client, reverse("agent:ticket-detail", args=[ticket.pk])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--language", default="en")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--templates", action="store_true")
    parser.add_argument("--calls", action="store_true")
    args = parser.parse_args()
    client, url = _setup()
    from django.db import connection

    headers = {"HTTP_ACCEPT_LANGUAGE": args.language}
    for _ in range(20):
        assert client.get(url, **headers).status_code == 200
    queries: list[float] = []

    def timed_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(time.perf_counter() - start)

    with connection.execute_wrapper(timed_query):
        client.get(url, **headers)
    sql_ms = sum(queries) * 1000
    cpu = []
    for _ in range(args.rounds):
        start = time.process_time()
        client.get(url, **headers)
        cpu.append((time.process_time() - start) * 1000)
    cpu.sort()
    print(f"ticket page: {len(queries)} queries, {sql_ms:.1f} ms in the database (one page)")
    print(f"CPU per page: median {statistics.median(cpu):.2f} ms, p95 {cpu[int(len(cpu) * 0.95) - 1]:.2f} ms")
    print(f"load average: {os.getloadavg()}")
    if args.calls:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(10):
            client.get(url, **headers)
        profile.disable()
        print(f"Python function calls per page: {pstats.Stats(profile).total_calls // 10}")  # type: ignore[attr-defined]
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(30):
            client.get(url, **headers)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
    if args.templates:
        from django.template import base

        spent: dict[str, float] = defaultdict(float)
        original = base.Template._render  # type: ignore[attr-defined]

        def timed(self: Any, context: Any) -> Any:
            start = time.process_time()
            try:
                return original(self, context)
            finally:
                spent[self.origin.template_name if self.origin else "?"] += time.process_time() - start

        base.Template._render = timed  # type: ignore[attr-defined]
        for _ in range(30):
            client.get(url, **headers)
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])[:30]:
            print(f"{seconds / 30 * 1000:8.2f} ms  {name}")


if __name__ == "__main__":
    main()
