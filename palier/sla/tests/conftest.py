"""Fixtures of the SLA tests: a controllable "now", and tickets opened at chosen instants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from palier.people.models import User
from palier.sla.models import Clock
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

PARIS = ZoneInfo("Europe/Paris")


def paris(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=PARIS)  # type: ignore[misc]


class Frozen:
    """``timezone.now()`` for every service, moved by the test (no freezegun needed)."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def set(self, when: datetime) -> datetime:
        self.at = when
        return when

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Frozen]:
    clock = Frozen(paris(2026, 4, 1, 9, 0))  # a Wednesday
    monkeypatch.setattr(timezone, "now", clock)
    yield clock


def open_ticket(requester: User, *, impact: str = "low", urgency: str = "low", **extra: Any) -> Ticket:
    return tickets.open_ticket(
        requester=requester, subject="Printer on fire", impact=impact, urgency=urgency, by=requester, **extra
    )


def clock_of(ticket: Ticket, kind: str) -> Clock:
    return Clock.objects.filter(ticket=ticket, kind=kind).order_by("-pk").first()  # type: ignore[return-value]
