"""Request ids and JSON log lines (``palier/lib/logs.py``), carried into tasks (``taskcontext.py``)."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from palier.lib.logs import JsonFormatter, RequestContextFilter, request_id_var
from palier.lib.taskcontext import REQUEST_ID_KWARG
from palier.people.models import User
from palier.system.proxies import parse_networks

pytestmark = pytest.mark.django_db

logger = logging.getLogger("palier.tests.logs")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes, formatted as with ``PALIER_LOG_FORMAT=json``."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    access = logging.getLogger("palier.request")
    level = access.level
    access.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        access.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_response_carries_a_new_request_id(client: Client, settings: Any) -> None:
    settings.PALIER_TRUSTED_PROXIES = ()
    first = client.get("/health")["X-Request-ID"]
    second = client.get("/health", HTTP_X_REQUEST_ID="chosen-by-the-client")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second  # an untrusted client's id is not taken


def test_a_trusted_proxys_request_id_is_kept_when_well_formed(client: Client, settings: Any) -> None:
    settings.PALIER_TRUSTED_PROXIES = parse_networks("PALIER_TRUSTED_PROXIES", ["127.0.0.1"])
    assert client.get("/health", HTTP_X_REQUEST_ID="edge-7f3a.1")["X-Request-ID"] == "edge-7f3a.1"
    for forged in ("two words", 'quote"', "x" * 200, "line\nbreak", "-leading"):
        assert client.get("/health", HTTP_X_REQUEST_ID=forged)["X-Request-ID"] != forged


def test_json_lines_carry_the_request_and_the_user(client: Client, agent: User, json_lines: io.StringIO) -> None:
    client.force_login(agent)
    response = client.get("/agent/", HTTP_ACCEPT_LANGUAGE="en")
    access = [line for line in lines(json_lines) if line["logger"] == "palier.request"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] == agent.pk
    assert line["path"] == "/agent/"
    assert line["status"] == response.status_code
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["message"] == f"GET /agent/ {response.status_code}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_a_line_is_one_json_object_even_with_newlines_and_an_exception(json_lines: io.StringIO) -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        logger.exception("failed on %s", "line one\nline two")
    (line,) = lines(json_lines)
    assert line["message"] == "failed on line one\nline two"
    assert "ValueError: bad" in line["exception"]
    assert "request_id" not in line  # outside a request and a task


@task()
def report_context(ticket_id: int) -> str | None:
    logger.warning("working on ticket %s", ticket_id)
    return request_id_var.get()


def test_tasks_enqueued_in_a_request_carry_its_id(settings: Any, json_lines: io.StringIO) -> None:
    settings.TASKS = {"default": {"BACKEND": "palier.lib.taskcontext.DatabaseBackend", "QUEUES": ["default"]}}
    token = request_id_var.set("req-42")
    try:
        report_context.enqueue(7)
    finally:
        request_id_var.reset(token)
    report_context.enqueue(8)  # outside a request: no extra argument
    carried = {row.args_kwargs["args"][0]: row.args_kwargs["kwargs"] for row in DBTaskResult.objects.all()}
    assert carried == {7: {REQUEST_ID_KWARG: "req-42"}, 8: {}}

    # the database worker's own run of each task (its loop would close the test's connection)
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    )
    for row in DBTaskResult.objects.order_by("enqueued_at"):
        row.claim("test")
        worker.run_task(row)

    results = {row.args_kwargs["args"][0]: row for row in DBTaskResult.objects.all()}
    assert results[7].status == "SUCCESSFUL" and results[7].return_value == "req-42"
    assert results[8].status == "SUCCESSFUL" and results[8].return_value == f"task-{results[8].id}"
    logged = {line["message"]: line.get("request_id") for line in lines(json_lines) if line["logger"] == logger.name}
    assert logged["working on ticket 7"] == "req-42"
    assert logged["working on ticket 8"] == f"task-{results[8].id}"
    assert request_id_var.get() is None  # nothing leaks past the runs


def test_redis_tasks_carry_the_request_id_too(settings: Any) -> None:
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    from palier.lib.taskcontext_rq import Job as CarryingJob
    from testsupport.processes import redis_database

    with redis_database(13) as url:
        settings.TASKS = {"default": {"BACKEND": "palier.lib.taskcontext_rq.RQBackend", "QUEUES": ["default"]}}
        settings.RQ_QUEUES = {"default": {"URL": url}}
        token = request_id_var.set("req-rq")
        try:
            result = report_context.enqueue(9)
        finally:
            request_id_var.reset(token)
        queue = django_rq.get_queue("default", job_class=Job)
        assert queue.fetch_job(result.id).kwargs == {REQUEST_ID_KWARG: "req-rq"}
        SimpleWorker([queue], connection=queue.connection, job_class=CarryingJob).work(burst=True)
        assert report_context.get_result(result.id).return_value == "req-rq"
