"""Builders for the automation tests: an empty rule list (the seeded rules removed) and rules
created through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from palier.automation import services
from palier.automation.models import Rule
from palier.automation.services.rules import _bump
from palier.people.models import User
from palier.tickets import stream


@pytest.fixture(autouse=True)
def no_seeded_rules(db: None) -> None:
    Rule.objects.all().delete()
    _bump()
    stream.skip_to_end()


@pytest.fixture
def make_rule(admin_user: User) -> Callable[..., Rule]:
    def build(name: str = "Rule", *, trigger: str = "created", actions: list[dict[str, Any]], **fields: Any) -> Rule:
        conditions = fields.pop("conditions", None)
        if isinstance(conditions, list):
            conditions = {"all": conditions, "any": []}
        return services.create_rule(
            by=admin_user, name=name, trigger=trigger, actions=actions, conditions=conditions or {}, **fields
        )

    return build


@pytest.fixture
def pump(django_capture_on_commit_callbacks: Any) -> Callable[[], int]:
    """Deliver the stream (and run what the deliveries queue after commit: emails, webhooks)."""

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
