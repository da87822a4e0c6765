"""``/metrics``: who may read it, what the middleware counts, the gauges read at scrape time."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from palier.backups.models import BackupRecord
from palier.mail.models import Mailbox
from palier.notifications.models import OutgoingEmail
from palier.ops.gauges import DatabaseCollector
from palier.ops.metrics import exposition
from palier.people.models import User
from palier.sla.models import Clock
from palier.system.proxies import parse_networks
from palier.tickets.models import StreamCursor, Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db

TOKEN = "s3cret-scrape-token"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_do_not_exist_unless_configured(client: Client, settings: Any) -> None:
    settings.PALIER_METRICS_TOKEN = ""
    settings.PALIER_METRICS_ALLOW = ()
    assert client.get("/metrics").status_code == 404


def test_the_token_is_required_and_compared_whole(client: Client, settings: Any) -> None:
    settings.PALIER_METRICS_TOKEN = TOKEN
    settings.PALIER_METRICS_ALLOW = ()
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused["WWW-Authenticate"].startswith("Bearer")
    for header in (f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer "):
        response = client.get("/metrics", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header
        assert b"palier_" not in response.content
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")


def test_the_address_list_is_checked_on_the_real_peer(client: Client, settings: Any) -> None:
    settings.PALIER_METRICS_TOKEN = ""
    settings.PALIER_METRICS_ALLOW = parse_networks("PALIER_METRICS_ALLOW", ["10.1.0.0/16"])
    settings.PALIER_TRUSTED_PROXIES = ()
    assert client.get("/metrics").status_code == 403  # the test client is 127.0.0.1
    # an untrusted peer claiming a listed address is not believed
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    # a trusted proxy's forwarded address is the client's
    settings.PALIER_TRUSTED_PROXIES = parse_networks("PALIER_TRUSTED_PROXIES", ["127.0.0.1"])
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    # both set: a scrape needs both
    settings.PALIER_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="10.9.9.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403
    ok = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ok.status_code == 200


def test_requests_are_counted_by_view_and_status_with_their_latency(client: Client, settings: Any) -> None:
    settings.PALIER_METRICS_TOKEN = TOKEN
    before = samples(exposition().decode())
    client.get("/health")
    client.get("/health")
    client.get("/no-such-page/")
    after = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("palier_http_requests_total", view="ops:health", method="GET", status="200") == 2
    assert grew("palier_http_requests_total", view="none", method="GET", status="404") == 1
    assert grew("palier_http_request_duration_seconds_count", view="ops:health", method="GET") == 2
    assert grew("palier_http_request_duration_seconds_bucket", view="ops:health", method="GET", le="+Inf") == 2


def test_the_gauges_are_read_with_few_queries(requester: User, agent: User, django_assert_num_queries: Any) -> None:
    now = timezone.now()
    make_ticket(requester, channel=Ticket.Channel.EMAIL)
    resolved = make_ticket(requester, channel=Ticket.Channel.PHONE)
    Ticket.objects.filter(pk=resolved.pk).update(status=Ticket.Status.RESOLVED, resolved_at=now)
    Clock.objects.filter(ticket=resolved).update(next_event_at=now - timedelta(minutes=5))
    Mailbox.objects.create(name="Support", address="support@desk.test", consecutive_failures=3)
    OutgoingEmail.objects.filter(state=OutgoingEmail.State.QUEUED).update(created_at=now - timedelta(minutes=2))
    BackupRecord.objects.create(finished_at=now - timedelta(days=2), path="/b/old.tar.gz", size=1)
    cursors = StreamCursor.objects.count()
    assert cursors  # the stream's consumers, behind by the events just recorded

    with django_assert_num_queries(8):
        text = "".join(
            f"{sample.name} {sorted(sample.labels.items())} {sample.value}\n"
            for family in DatabaseCollector().collect()
            for sample in family.samples
        )
    got = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()}
    assert got["palier_tickets_created_last_hour [('channel', 'email')]"] == 1
    assert got["palier_tickets_created_last_hour [('channel', 'phone')]"] == 1
    assert got["palier_tickets_resolved_last_hour [('channel', 'phone')]"] == 1
    assert got["palier_tickets_resolved_last_hour [('channel', 'email')]"] == 0
    assert got["palier_mailbox_consecutive_failures [('mailbox', 'Support')]"] == 3
    assert got["palier_mailbox_last_success_age_seconds [('mailbox', 'Support')]"] == -1
    assert 290 < got["palier_sla_sweep_lag_seconds []"] < 400
    assert got["palier_backup_stale []"] == 1
    assert got["palier_backup_last_success_age_seconds []"] > 2 * 86400 - 60
    assert got["palier_task_queue_depth [('queue', 'default')]"] == 0
    assert got["palier_scrape_errors []"] == 0
    assert got["palier_event_stream_behind_events [('consumer', 'notifications')]"] >= 2
    assert got["palier_event_stream_lag_seconds [('consumer', 'notifications')]"] >= 0
    assert got["palier_outbox_unsent []"] == OutgoingEmail.objects.filter(state="queued").count()


def test_counts_of_every_process_are_added_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's processes and the worker each write their counts; a scrape adds them up."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    count = "from palier.ops.metrics import REQUESTS; REQUESTS.labels('agent:queue', 'GET', '200').inc(3)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, check=True, cwd=Path(__file__).parents[3])
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    got = samples(exposition().decode())
    assert got[("palier_http_requests_total", (("method", "GET"), ("status", "200"), ("view", "agent:queue")))] == 6


def test_the_sample_dashboard_reads_only_metrics_palier_serves(client: Client) -> None:
    client.get("/health")  # a request and its histogram exist
    text = exposition().decode()
    served = {name for name, _labels in samples(text)}
    served |= {family.name for family in text_string_to_metric_families(text)}  # families without samples yet
    served |= {"palier_task_runs_total"}  # counted once a task finished
    dashboard = json.loads((Path(__file__).parents[3] / "docs" / "grafana" / "palier.json").read_text())
    used = set(re.findall(r"palier_[a-z_]+", json.dumps(dashboard["panels"])))
    assert used and used <= served, used - served


def test_the_redis_queue_is_measured_in_redis(settings: Any) -> None:
    from palier.ops.gauges import queue_gauges
    from palier.tickets.tasks import pump_stream_task
    from testsupport.processes import RQ_TASKS, redis_database

    with redis_database(13) as url:
        settings.REDIS_URL = url
        settings.RQ_QUEUES = {"default": {"URL": url}}
        settings.TASKS = RQ_TASKS
        pump_stream_task.enqueue()
        pump_stream_task.enqueue()
        got = {family.name: family.samples[0] for family in queue_gauges(timezone.now() + timedelta(seconds=30))}
    assert got["palier_task_queue_depth"].labels == {"queue": "default"}
    assert got["palier_task_queue_depth"].value == 2
    assert 29 <= got["palier_task_queue_oldest_seconds"].value < 60
