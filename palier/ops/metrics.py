"""Prometheus metrics (prometheus-client), served at ``/metrics`` (docs/operations.md, "Metrics").

Two kinds of figures:

- **Counted by the processes**: HTTP requests by view, method and status with their latency
  (``MetricsMiddleware``), task runs by task and outcome (the ``task_finished`` signal, listed in
  ``palier/events.py``). gunicorn runs several processes, so when ``PROMETHEUS_MULTIPROC_DIR`` is set
  (``palier up`` sets it) each process writes its counts to files there and a scrape adds them up
  (prometheus-client's multiprocess mode); without it a scrape sees only the process that answers.
- **Read from the database at scrape time** (``palier/ops/gauges.py``): business figures and
  backlogs that every process shares, with a handful of indexed queries.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.registry import REGISTRY

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "palier_http_requests",
    "HTTP requests answered, by view (URL name), method and status.",
    ["view", "method", "status"],
)
REQUEST_LATENCY = Histogram(
    "palier_http_request_duration_seconds",
    "Time to answer an HTTP request, by view (URL name) and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
TASK_RUNS = Counter(
    "palier_task_runs",
    "Background task runs finished, by task and outcome (SUCCESSFUL or FAILED).",
    ["task", "status"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def view_label(request: HttpRequest) -> str:
    """The URL name of the view (``agent:ticket-detail``): a bounded set, never the path itself."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "none"  # not resolved: static files, a 404 for an unknown path
    return str(match.view_name)  # an unnamed view: its dotted path


class MetricsMiddleware:
    """Counts each request and times it, labelled by its view once resolved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        method = request.method if request.method in METHODS else "OTHER"
        REQUEST_LATENCY.labels(view, method).observe(time.perf_counter() - started)
        REQUESTS.labels(view, method, str(response.status_code)).inc()
        return response


def task_finished(sender: Any, task_result: Any, **_: Any) -> None:
    """``task_finished`` of django-tasks: count the run by its task and outcome."""
    TASK_RUNS.labels(task_result.task.module_path, str(task_result.status)).inc()


def exposition() -> bytes:
    """The text of a scrape: the processes' counters (every process's in multiprocess mode), then
    the gauges read from the database now."""
    from palier.ops.gauges import DatabaseCollector

    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        prometheus_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        output = generate_latest(registry)
    else:
        output = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(DatabaseCollector())
    return output + generate_latest(gauges)
