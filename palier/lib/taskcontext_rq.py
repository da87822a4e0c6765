"""The Redis task backend and job carrying the request id (``palier/lib/taskcontext.py``); a module
of its own so that the database setup never imports RQ. ``palier worker`` runs RQ with ``Job``."""

from __future__ import annotations

from typing import Any

from django_tasks.base import Task, TaskResult
from django_tasks_rq.backend import Job as _Job
from django_tasks_rq.backend import RQBackend as _RQBackend

from palier.lib.logs import request_id_var
from palier.lib.taskcontext import REQUEST_ID_KWARG, with_request_id


class RQBackend(_RQBackend):
    """django-tasks-rq's backend, carrying the request id in the task's arguments."""

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any]:
        return super().enqueue(task, args, with_request_id(dict(kwargs)))


class Job(_Job):
    """django-tasks-rq's job, taking the request id out of the arguments before the task runs
    (its task result is a copy, which the ``task_started`` signal cannot change) and making it the
    context of the run."""

    def perform(self) -> Any:
        kwargs = dict(self.kwargs)
        carried = kwargs.pop(REQUEST_ID_KWARG, None)
        self.kwargs = kwargs
        self.__dict__.pop("task_result", None)  # built again without the extra argument
        token = request_id_var.set(str(carried) if carried else f"task-{self.id}")
        try:
            return super().perform()
        finally:
            request_id_var.reset(token)
