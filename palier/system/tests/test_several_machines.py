"""Palier on several machines: two web processes, three workers and two schedulers (one per
"machine") share one PostgreSQL and one Redis (task queue, cache, sessions). A short mixed load —
API creations through both web processes (with an idempotent retry through the other one), agent
replies, mail intake through ``palier mailgate``, SLA sweeps racing each other — then nothing is
lost or duplicated: counts, unique numbers, one ``created`` event and one search entry per
ticket, each reply once, each SLA breach once, every stream consumer at the end of the stream.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from palier import events
from palier.mail.models import InboundMessage
from palier.people import services as people
from palier.people.models import User
from palier.sla.models import Clock
from palier.tickets.models import Comment, SearchEntry, StreamCursor, Ticket, TicketEvent
from testsupport.processes import RQ_TASKS, redis_database, run_palier, run_web, run_workers, shared_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several machines share PostgreSQL, not SQLite"),
    pytest.mark.django_db(transaction=True),
]

CREATIONS = 24  # through the API, alternating between the two web processes
REPLIES = 12  # an agent's public replies through the API
OVERDUE = 4  # tickets whose SLA clocks are made due, then swept by racing sweeps


def _call(url: str, token: str, method: str = "GET", body: dict[str, Any] | None = None, **headers: str) -> Any:
    request = urllib.request.Request(
        url,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def _mail(subject: str, mid: str) -> bytes:
    return (
        f"From: Alice <alice@acme.test>\r\nTo: desk@palier.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{mid}@acme.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, {subject}.\r\n"
    ).encode()


def _mailgate(env: dict[str, str], raw: bytes) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "palier.cli", "mailgate"], input=raw, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _settled(queue: Any) -> bool:
    """Nothing waiting or running, and every consumer of the event stream at its end."""
    if queue.count or queue.started_job_registry.count or queue.scheduled_job_registry.count:
        return False
    end = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    positions = dict(StreamCursor.objects.values_list("name", "position"))
    return set(positions) >= set(events.STREAM_CONSUMERS) and all(
        positions[name] >= end for name in events.STREAM_CONSUMERS
    )


def test_two_web_processes_three_workers_lose_and_duplicate_nothing(
    settings: Any, requester: User, agent: User
) -> None:
    import django_rq

    from palier.sla.tasks import sla_sweep_task

    asker = people.create_api_token(requester, scope="write").secret
    helper = people.create_api_token(agent, scope="write").secret
    with redis_database(10) as redis_url, shared_database() as base:
        settings.TASKS, settings.RQ_QUEUES = RQ_TASKS, {"default": {"URL": redis_url}}
        queue = django_rq.get_queue("default")
        env = {**base, "REDIS_URL": redis_url}
        with (
            run_web(2, env=env) as web,
            run_workers(3, env=env) as workers,
            run_palier(["scheduler", "--verbosity", "0"], 2, env=env),
            ThreadPoolExecutor(max_workers=8) as pool,
        ):

            def create(i: int) -> int:
                key = {"Idempotency-Key": f"load-{i}"} if i % 3 == 0 else {}
                body = {"subject": f"Poste {i} en panne", "description": "Écran noir.", "impact": "high"}
                status, ticket = _call(f"{web[i % 2]}/api/v1/tickets", asker, "POST", body, **key)
                assert status == 201
                return int(ticket["id"])

            def reply(ticket_id: int, i: int) -> int:
                status, comment = _call(
                    f"{web[i % 2]}/api/v1/tickets/{ticket_id}/comments", helper, "POST", {"body": f"Réponse {i}"}
                )
                assert status == 201
                return int(comment["id"])

            mails = [pool.submit(_mailgate, env, _mail(f"Imprimante {i}", f"new-{i}")) for i in range(2)]
            created = list(pool.map(create, range(CREATIONS)))
            # the same creation retried through the other web process: the same ticket, not a second one
            status, again = _call(
                f"{web[1]}/api/v1/tickets", asker, "POST",
                {"subject": "Poste 0 en panne", "description": "Écran noir.", "impact": "high"},
                **{"Idempotency-Key": "load-0"},
            )  # fmt: skip
            assert (status, again["id"]) == (200, created[0])
            numbers = dict(Ticket.objects.filter(pk__in=created).values_list("pk", "number"))
            mails += [
                pool.submit(_mailgate, env, _mail(f"Re: [INC-{numbers[created[i]]}] merci", f"reply-{i}"))
                for i in range(2)
            ]
            replies = list(pool.map(reply, created[:REPLIES], range(REPLIES)))
            # some clocks fall due; sweeps race each other on three workers and the schedulers' own
            past = timezone.now() - timedelta(minutes=1)
            overdue = Clock.objects.filter(ticket_id__in=created[-OVERDUE:], stopped_at__isnull=True, kind="resolution")
            assert overdue.update(due_at=past, warn_at=past, next_event_at=past) == OVERDUE
            for _ in range(3):
                sla_sweep_task.enqueue()
            outputs = [mail.result() for mail in mails]
            assert all("processed" in out for out in outputs), outputs
            workers.wait_until(lambda: _settled(queue), timeout=60, poll=0.2)
        assert queue.failed_job_registry.count == 0, workers.output()

    tickets = Ticket.objects.all()
    assert tickets.count() == CREATIONS + 2
    assert tickets.filter(channel="email").count() == 2
    pairs = list(tickets.values_list("kind", "number"))
    assert len(pairs) == len(set(pairs))  # every number once
    assert len(set(replies)) == REPLIES
    created_events = TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED).values("ticket").annotate(n=Count("id"))
    assert sorted((row["ticket"], row["n"]) for row in created_events) == sorted(
        (t, 1) for t in tickets.values_list("pk", flat=True)
    )
    entries = SearchEntry.objects.filter(comment__isnull=True).values("ticket").annotate(n=Count("id"))
    assert {row["ticket"]: row["n"] for row in entries} == dict.fromkeys(tickets.values_list("pk", flat=True), 1)
    comments = Comment.objects.filter(ticket_id__in=created)
    assert comments.filter(author=agent).count() == REPLIES
    assert comments.filter(author=requester, channel="email").count() == 2  # the replies by mail joined their tickets
    assert SearchEntry.objects.filter(comment__isnull=False).count() == Comment.objects.count()
    assert InboundMessage.objects.filter(state="processed").count() == 4
    breaches = TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH)
    assert sorted(breaches.values_list("ticket_id", flat=True)) == sorted(created[-OVERDUE:])  # each once
