"""The request id travels with the tasks a request enqueues (docs/operations.md, "Logs").

The task backends Palier configures (``DatabaseBackend``, ``RQBackend`` below) add the current
request id to a task's keyword arguments under ``REQUEST_ID_KWARG`` when one is set; the worker's
``task_started`` signal (``palier/events.py``, ``TASK_SIGNALS``) takes it out again before the task
function is called and restores it as the context of the run, so every log line of the task, and
any task it enqueues in turn, carries the request's id. A task enqueued outside a request (the
scheduler's periodic jobs) gets no extra argument and runs under its own task id.
"""

from __future__ import annotations

import contextvars
from typing import Any

from django_tasks.base import TaskResult
from django_tasks_db.backend import DatabaseBackend as _DatabaseBackend

from palier.lib.logs import request_id_var

REQUEST_ID_KWARG = "_palier_request_id"


def with_request_id(kwargs: dict[str, Any]) -> dict[str, Any]:
    request_id = request_id_var.get()
    if request_id is None or REQUEST_ID_KWARG in kwargs:
        return kwargs
    return {**kwargs, REQUEST_ID_KWARG: request_id}


class DatabaseBackend(_DatabaseBackend):
    """django-tasks-db's backend, carrying the request id in the task's arguments."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        return super().enqueue(task, args, with_request_id(dict(kwargs)))


_run_token: contextvars.ContextVar[contextvars.Token[str | None] | None] = contextvars.ContextVar(
    "palier_task_run", default=None
)


def task_started(sender: Any, task_result: TaskResult[Any], **_: Any) -> None:
    """Take the request id out of the arguments (the task function never sees it) and make it the
    context of the run. A task without one runs under its own id, unless it runs inside the
    request itself (the immediate backend), which keeps the request's."""
    carried = task_result.kwargs.pop(REQUEST_ID_KWARG, None)
    if carried:
        _run_token.set(request_id_var.set(str(carried)))
    elif request_id_var.get() is None:
        _run_token.set(request_id_var.set(f"task-{task_result.id}"))
    else:
        _run_token.set(None)


def task_finished(sender: Any, task_result: TaskResult[Any], **_: Any) -> None:
    token = _run_token.get()
    if token is None:
        return
    _run_token.set(None)
    try:
        request_id_var.reset(token)
    except ValueError:  # set in another context: start the next task clean
        request_id_var.set(None)
