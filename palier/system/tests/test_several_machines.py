"""Palier on several machines: two web processes and three workers share one PostgreSQL, one Redis
(task queue, cache, sessions) and one S3-compatible bucket (files). A short mixed load — API
creations through both web processes (with an idempotent retry through the other one), agent
replies, mail intake through ``palier mailgate``, SLA sweeps racing each other, a session and a
file crossing from one web process to the other — then nothing is lost or duplicated: counts,
unique numbers, one ``created`` event and one search entry per ticket, each reply once, each SLA
breach once, every stream consumer at the end of the stream.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from palier import events
from palier.mail.models import InboundMessage
from palier.people import services as people
from palier.people.models import User
from palier.sla.models import Clock
from palier.tickets.models import Attachment, Comment, SearchEntry, StreamCursor, Ticket, TicketEvent
from testsupport.processes import RQ_TASKS, redis_database, run_web, run_workers, shared_database
from testsupport.s3 import new_bucket, objects, s3_env

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several machines share PostgreSQL, not SQLite"),
    pytest.mark.django_db(transaction=True),
]

CREATIONS = 24  # through the API, alternating between the two web processes
REPLIES = 12  # an agent's public replies through the API
OVERDUE = 4  # tickets whose SLA clocks are made due, then swept by racing sweeps
SECURITY = "/accounts/profile/security/"
PASSWORD = "Un mot de passe pour deux machines"


def _call(url: str, token: str, method: str = "GET", body: dict[str, Any] | None = None, **headers: str) -> Any:
    answer = httpx.request(method, url, json=body, headers={"Authorization": f"Bearer {token}", **headers}, timeout=30)
    return answer.status_code, answer.json()


def _sign_in(web: str, email: str, password: str) -> httpx.Cookies:
    """Sign in through one web process as a browser does; the session's cookies."""
    with httpx.Client(base_url=web, headers={"Accept-Language": "en"}, timeout=30) as browser:
        page = browser.get(reverse("login"))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        done = browser.post(
            reverse("login"), data={"csrfmiddlewaretoken": token[1], "username": email, "password": password}
        )
        assert done.status_code == 302, done.text[:500]
        return browser.cookies


def _signed_in(web: str, cookies: httpx.Cookies) -> bool:
    with httpx.Client(base_url=web, cookies=cookies, timeout=30) as browser:
        return browser.get(SECURITY).status_code == 200


def _sign_out(web: str, cookies: httpx.Cookies) -> None:
    with httpx.Client(base_url=web, cookies=cookies, timeout=30) as browser:
        browser.get(SECURITY)
        answer = browser.post(reverse("logout"), headers={"X-CSRFToken": browser.cookies["csrftoken"]})
        assert answer.status_code in (200, 302), answer.text[:500]


def _mail(subject: str, mid: str, attachment: bytes = b"") -> bytes:
    head = f"From: Alice <alice@acme.test>\r\nTo: desk@palier.test\r\nSubject: {subject}\r\nMessage-ID: <{mid}@acme.test>\r\n"
    text = f"Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, {subject}.\r\n"
    if not attachment:
        return (head + text).encode()
    return (
        f'{head}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n{text}--b\r\n'
        'Content-Type: text/plain; name="journal.txt"\r\nContent-Disposition: attachment; filename="journal.txt"\r\n'
        f"\r\n{attachment.decode()}\r\n--b--\r\n"
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


def _settles(queue: Any) -> Any:
    """``_settled``, with the event stream pumped every 2 s meanwhile: what the scheduler's
    ``event-stream`` job does every 10 s in production (a pump that met a gap while another
    transaction was still open ends there, and this test runs no scheduler)."""
    from palier.tickets.tasks import pump_stream_task

    last = [time.monotonic()]

    def check() -> bool:
        if time.monotonic() - last[0] >= 2:
            pump_stream_task.enqueue()
            last[0] = time.monotonic()
        return _settled(queue)

    return check


def test_two_web_processes_three_workers_lose_and_duplicate_nothing(
    settings: Any, requester: User, agent: User, s3_server: str
) -> None:
    import django_rq

    from palier.sla.tasks import sla_sweep_task

    # the web processes check passwords with the real hashers, not the tests' fast one
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    requester.set_password(PASSWORD)
    requester.save(update_fields=["password"])
    asker = people.create_api_token(requester, scope="write").secret
    helper = people.create_api_token(agent, scope="write").secret
    with redis_database(10) as redis_url, shared_database() as base:
        settings.TASKS, settings.RQ_QUEUES = RQ_TASKS, {"default": {"URL": redis_url}}
        queue = django_rq.get_queue("default")
        bucket = new_bucket(s3_server)
        env = {**base, "REDIS_URL": redis_url, **s3_env(s3_server, bucket)}
        with (
            run_web(2, env=env) as web,
            run_workers(3, env=env) as workers,
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

            mails = [pool.submit(_mailgate, env, _mail("Imprimante 0", "new-0", attachment=b"erreur 42"))]
            mails += [pool.submit(_mailgate, env, _mail("Imprimante 1", "new-1"))]
            # a browser signed in on one machine is signed in on the other (sessions in Redis)
            cookies = _sign_in(web[0], requester.email, PASSWORD)
            assert _signed_in(web[1], cookies)
            created = list(pool.map(create, range(CREATIONS)))
            # the same creation retried through the other web process: the same ticket, not a second one
            status, again = _call(
                f"{web[1]}/api/v1/tickets", asker, "POST",
                {"subject": "Poste 0 en panne", "description": "Écran noir.", "impact": "high"},
                **{"Idempotency-Key": "load-0"},
            )  # fmt: skip
            assert (status, again["id"]) == (200, created[0])
            number = Ticket.objects.get(pk=created[0]).number
            mails += [pool.submit(_mailgate, env, _mail(f"Re: [INC-{number}] merci", "reply-0"))]
            replies = list(pool.map(reply, created[:REPLIES], range(REPLIES)))
            # some clocks fall due; three sweeps race each other on the three workers
            past = timezone.now() - timedelta(minutes=1)
            overdue = Clock.objects.filter(ticket_id__in=created[-OVERDUE:], stopped_at__isnull=True, kind="resolution")
            assert overdue.update(due_at=past, warn_at=past, next_event_at=past) == OVERDUE
            for _ in range(3):
                sla_sweep_task.enqueue()
            # a file uploaded through one machine is downloaded through the other (files in S3)
            upload = httpx.post(
                f"{web[0]}/api/v1/tickets/{created[1]}/attachments",
                files={"file": ("capture.txt", b"trace du poste 1")},
                headers={"Authorization": f"Bearer {asker}"},
                timeout=30,
            )
            assert upload.status_code == 201, upload.text
            download = httpx.get(
                f"{web[1]}/api/v1/attachments/{upload.json()['id']}/download",
                headers={"Authorization": f"Bearer {asker}"},
                timeout=30,
            )
            assert (download.status_code, download.content) == (200, b"trace du poste 1")
            # signed out on the second machine: signed out on the first too
            _sign_out(web[1], cookies)
            assert not _signed_in(web[0], cookies)
            outputs = [mail.result() for mail in mails]
            assert all("processed" in out for out in outputs), outputs
            workers.wait_until(_settles(queue), timeout=60, poll=0.2)
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
    assert comments.filter(author=requester, channel="email").get().ticket_id == created[0]  # the reply by mail
    assert SearchEntry.objects.filter(comment__isnull=False).count() == Comment.objects.count()
    assert InboundMessage.objects.filter(state="processed").count() == 3
    stored = objects(s3_server, bucket)
    files = dict(Attachment.objects.values_list("filename", "file"))
    assert set(files) == {"capture.txt", "journal.txt"} and set(stored) == set(files.values())
    assert stored[files["journal.txt"]].strip() == b"erreur 42"
    breaches = TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH)
    assert sorted(breaches.values_list("ticket_id", flat=True)) == sorted(created[-OVERDUE:])  # each once
