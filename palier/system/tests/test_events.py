"""``palier/events.py``, the wiring map: every path in it names something runnable, what is
registered is exactly what it lists (in its order), and nothing reacts to model signals."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps
from django.db.models import signals
from django_tasks.base import Task

from palier import events
from palier.lib import schedule
from palier.system import scheduler
from palier.tickets import hooks, stream


def test_every_hook_and_consumer_path_names_a_callable() -> None:
    paths = [
        *events.BEFORE_OPEN,
        *events.AFTER_OPEN,
        *events.ASSIGN,
        *events.AFTER_CHANGE,
        *events.BEFORE_RESOLVE,
        *events.STREAM_CONSUMERS.values(),
    ]
    for path in paths:
        assert callable(events.resolve(path)), path


def test_every_periodic_job_names_a_task() -> None:
    names = [name for name, _seconds, _path in events.PERIODIC_JOBS]
    assert len(names) == len(set(names))
    for name, seconds, path in events.PERIODIC_JOBS:
        task = events.resolve(path)
        assert isinstance(task, Task) and callable(task.enqueue), path
        assert seconds > 0, name


def test_the_ticket_hooks_registered_are_the_map_in_its_order() -> None:
    assert hooks.before_open == [("many", events.resolve(path)) for path in events.BEFORE_OPEN]
    assert hooks.after_open == [("many", events.resolve(path)) for path in events.AFTER_OPEN]
    assert hooks.assigners == [events.resolve(path) for path in events.ASSIGN]
    assert hooks.after_change == [events.resolve(path) for path in events.AFTER_CHANGE]
    assert hooks.resolve_guards == [events.resolve(path) for path in events.BEFORE_RESOLVE]
    assert events.BEFORE_OPEN[0].startswith("palier.routing.")  # routing places before SLA plans


def test_the_stream_consumers_subscribed_are_the_map() -> None:
    assert stream.consumers() == sorted(events.STREAM_CONSUMERS)
    for name, path in events.STREAM_CONSUMERS.items():
        assert stream._handlers[name] is events.resolve(path)


def test_the_periodic_jobs_registered_are_the_map() -> None:
    registered = {(job.name, job.seconds, scheduler.task_of(job)) for job in schedule.jobs()}
    listed = {(name, seconds, events.resolve(path)) for name, seconds, path in events.PERIODIC_JOBS}
    assert registered == listed


def test_wiring_again_changes_nothing() -> None:
    hooks_now = (hooks.before_open, hooks.after_open, hooks.assigners, hooks.after_change)
    before = (*(list(h) for h in hooks_now), stream.consumers())
    jobs = schedule.jobs()
    events.wire()
    assert (hooks.before_open, hooks.after_open, hooks.assigners, hooks.after_change, stream.consumers()) == before
    assert [(j.name, j.seconds, scheduler.task_of(j)) for j in schedule.jobs()] == [
        (j.name, j.seconds, scheduler.task_of(j)) for j in jobs
    ]


def test_the_map_is_data_it_imports_no_app() -> None:
    """Any app may be named in the map, so importing it must import none of them."""
    tree = ast.parse(Path(events.__file__).read_text(encoding="utf-8"))
    modules = [node.module for node in tree.body if isinstance(node, ast.ImportFrom)]
    modules += [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    assert all(not (module or "").startswith("palier") for module in modules), modules


def test_no_domain_model_reacts_to_django_signals() -> None:
    model_signals = (signals.pre_save, signals.post_save, signals.pre_delete, signals.post_delete)
    for model in apps.get_models(include_auto_created=True):
        if not model.__module__.startswith("palier."):
            continue
        assert not any(signal.has_listeners(model) for signal in model_signals), model
        assert not signals.m2m_changed.has_listeners(model), model


def test_the_outbox_handlers_registered_are_the_map() -> None:
    from palier.core import outbox

    assert outbox.kinds() == sorted(events.OUTBOX_HANDLERS)
    for kind, path in events.OUTBOX_HANDLERS.items():
        assert outbox._handlers[kind] is events.resolve(path)


def test_the_change_hooks_registered_are_the_map() -> None:
    from palier.changes import services as change_services

    assert [f"{f.__module__}.{f.__name__}" for f in change_services.AFTER_SAVE] == list(events.CHANGE_AFTER_SAVE)
    assert [f"{f.__module__}.{f.__name__}" for f in change_services.ON_AWAITING_APPROVAL] == list(
        events.CHANGE_AWAITING_APPROVAL
    )


def test_the_record_event_reactions_registered_are_the_map() -> None:
    from palier.changes import history as change_history
    from palier.problems import history as problem_history

    assert [events.resolve(path) for path in events.PROBLEM_EVENT_RECORDED] == problem_history.ON_RECORDED
    assert [events.resolve(path) for path in events.CHANGE_EVENT_RECORDED] == change_history.ON_RECORDED


def test_the_approval_reactions_registered_are_the_map() -> None:
    from palier.catalog.services import approvals
    from palier.integrations.services import chat

    assert [events.resolve(path) for path in events.APPROVAL_ASKED] == approvals.ON_ASKED
    assert [events.resolve(path) for path in events.CHAT_APPROVALS] == chat.approval_handlers


def test_the_group_usage_checks_registered_are_the_map() -> None:
    from palier.people import services as people_services

    assert [events.resolve(path) for path in events.GROUP_IN_USE] == people_services.group_users
