"""Fixtures of the webhooks tests: a real local receiver (private and http addresses allowed for
it), subscriptions made through the services, the stream pumped as a worker would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from palier.people.models import User
from palier.tickets import stream
from palier.webhooks import services
from palier.webhooks.services.subscriptions import Issued

from .receiver import Receiver, receiver


@pytest.fixture(autouse=True)
def _stream_at_end(db: None) -> None:
    stream.skip_to_end()


@pytest.fixture
def local(settings: Any) -> Iterator[Receiver]:
    """The receiver, with the settings that let Palier post to it (http, 127.0.0.1)."""
    settings.PALIER_WEBHOOKS_ALLOW_PRIVATE = True
    settings.PALIER_WEBHOOKS_ALLOW_HTTP = True
    with receiver() as server:
        yield server


@pytest.fixture
def subscribe(admin_user: User, local: Receiver) -> Callable[..., Issued]:
    def build(types: list[str] | None = None, **fields: Any) -> Issued:
        fields.setdefault("url", local.url)
        fields.setdefault("name", "Receiver")
        return services.create_subscription(by=admin_user, event_types=types or ["ticket.created"], **fields)

    return build


@pytest.fixture
def pump(django_capture_on_commit_callbacks: Any) -> Callable[[], int]:
    """Deliver the stream, and run what it queues after commit (the delivery task, immediate here)."""

    def run() -> int:
        total = 0
        for _ in range(10):
            with django_capture_on_commit_callbacks(execute=True):
                handled = sum(stream.pump(name) for name in stream.consumers())
            total += handled
            if not handled:
                break
        return total

    return run
