"""Builders of the SLA, satisfaction and knowledge fixtures: tickets driven through the real
services at chosen instants (``timezone.now`` is moved by the test, no freezegun), survey answers
and knowledge-base activity written with known dates.

The SLA story (calendar "Business hours": Monday to Friday 09:00-18:00 Europe/Paris, French
public holidays; policy "P3 - Medium": first response 240, resolution 1620 business minutes):

=====  ======================================  =====================================================
T      what happens (Paris time)               business minutes (response / resolution)
=====  ======================================  =====================================================
TP     Mon 30 Mar 09:00 opened, 09:30 reply,   30 / 120 (the previous period, March)
       11:00 resolved
T0     Tue 31 Mar 17:00 opened, Wed 1 Apr      60+30 = 90 / 60+60 = 120 (spans the period start)
       09:30 reply, 10:00 resolved
T1     Fri 3 Apr 17:30 opened, Tue 7 Apr       30 + 0 (Easter Monday) + 60 = 90 /
       10:00 reply, 15:00 resolved             30 + 0 + 360 = 390
T2     Wed 8 Apr 09:00 opened, 10:00 reply,    60 / 120 + 60 = 180 (540 business minutes paused
       11:00 pending requester, Thu 9 Apr      are excluded)
       11:00 back in progress, 12:00 resolved
T3     Mon 13 Apr 09:00 opened, no reply;      540 (missed, breached) / 540 + 180 = 720
       swept 13:30 (breach); Tue 14 Apr 09:00
       reply, 12:00 resolved
T4     Wed 29 Apr 09:00 opened, 10:00 reply;   60 / running at the end of April
       resolved Mon 4 May 10:00
T5     Thu 30 Apr 17:00 opened, nothing more   running / running
T6     Wed 15 Apr 09:00 opened, 10:00          stopped without judgement: counted nowhere
       cancelled
=====  ======================================  =====================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from palier.kb.models import Article, ArticleView, Deflection, FailedSearch, HelpfulVote
from palier.people.models import User
from palier.sla import services as sla
from palier.surveys.models import SurveyRequest, SurveyResponse
from palier.tickets import services as tickets
from palier.tickets.models import Ticket

PARIS = ZoneInfo("Europe/Paris")


def paris(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=PARIS)  # type: ignore[misc]


class Frozen:
    """``timezone.now()`` for every service, set by the test."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def set(self, when: datetime) -> datetime:
        self.at = when
        return when


@pytest.fixture(name="frozen")
def frozen_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Frozen]:
    """``frozen``: import ``frozen_fixture`` into a test module to use it."""
    clock = Frozen(paris(2026, 3, 30, 9, 0))
    monkeypatch.setattr(timezone, "now", clock)
    yield clock


@dataclass
class Desk:
    requester: User
    agent: User
    frozen: Frozen

    def open(self, at: datetime, subject: str = "Printer on fire") -> Ticket:
        self.frozen.set(at)
        return tickets.open_ticket(
            requester=self.requester, subject=subject, impact="medium", urgency="medium", by=self.requester
        )

    def reply(self, ticket: Ticket, at: datetime) -> Ticket:
        self.frozen.set(at)
        tickets.comment_on_ticket(ticket, by=self.agent, body="Looking into it.")
        return Ticket.objects.get(pk=ticket.pk)

    def move(self, ticket: Ticket, at: datetime, to: str) -> Ticket:
        self.frozen.set(at)
        return tickets.transition_ticket(Ticket.objects.get(pk=ticket.pk), to=to, by=self.agent)

    def sweep(self, at: datetime) -> None:
        self.frozen.set(at)
        sla.sweep(now=at)


def sla_story(desk: Desk) -> dict[str, Ticket]:
    """The tickets of the table above, in the order things happen."""
    t: dict[str, Ticket] = {}
    t["TP"] = desk.open(paris(2026, 3, 30, 9, 0), "Previous period")
    desk.reply(t["TP"], paris(2026, 3, 30, 9, 30))
    desk.move(t["TP"], paris(2026, 3, 30, 11, 0), "resolved")
    t["T0"] = desk.open(paris(2026, 3, 31, 17, 0), "Across the boundary")
    desk.reply(t["T0"], paris(2026, 4, 1, 9, 30))
    desk.move(t["T0"], paris(2026, 4, 1, 10, 0), "resolved")
    t["T1"] = desk.open(paris(2026, 4, 3, 17, 30), "Before Easter")
    desk.reply(t["T1"], paris(2026, 4, 7, 10, 0))
    desk.move(t["T1"], paris(2026, 4, 7, 15, 0), "resolved")
    t["T2"] = desk.open(paris(2026, 4, 8, 9, 0), "Paused")
    desk.reply(t["T2"], paris(2026, 4, 8, 10, 0))
    desk.move(t["T2"], paris(2026, 4, 8, 11, 0), "pending_requester")
    desk.move(t["T2"], paris(2026, 4, 9, 11, 0), "in_progress")
    desk.move(t["T2"], paris(2026, 4, 9, 12, 0), "resolved")
    t["T3"] = desk.open(paris(2026, 4, 13, 9, 0), "Breached")
    desk.sweep(paris(2026, 4, 13, 13, 30))
    desk.reply(t["T3"], paris(2026, 4, 14, 9, 0))
    desk.move(t["T3"], paris(2026, 4, 14, 12, 0), "resolved")
    t["T6"] = desk.open(paris(2026, 4, 15, 9, 0), "Cancelled")
    desk.move(t["T6"], paris(2026, 4, 15, 10, 0), "cancelled")
    t["T4"] = desk.open(paris(2026, 4, 29, 9, 0), "Resolved in May")
    desk.reply(t["T4"], paris(2026, 4, 29, 10, 0))
    t["T5"] = desk.open(paris(2026, 4, 30, 17, 0), "Still running")
    desk.move(t["T4"], paris(2026, 5, 4, 10, 0), "resolved")
    return t


# --- satisfaction --------------------------------------------------------------------------------


def ask(ticket: Ticket, at: datetime) -> SurveyRequest:
    """The survey email of ``ticket`` went out at ``at``."""
    return SurveyRequest.objects.create(ticket=ticket, sent_at=at)


def answer(ticket: Ticket, *, score: int, at: datetime, comment: str = "") -> SurveyResponse:
    return SurveyResponse.objects.create(
        ticket=ticket, requester_id=ticket.requester_id, score=score, comment=comment, answered_at=at, updated_at=at
    )


def resolved(requester: User, agent: User, *, subject: str, group_id: int | None = None) -> Ticket:
    """A resolved ticket assigned to ``agent`` (in ``group_id`` when given)."""
    ticket = tickets.open_ticket(requester=requester, subject=subject, by=requester)
    changes: dict[str, object] = {"assignee": agent}
    if group_id is not None:
        changes["group_id"] = group_id
    Ticket.objects.filter(pk=ticket.pk).update(**changes)
    return tickets.transition_ticket(Ticket.objects.get(pk=ticket.pk), to="resolved", by=agent)


# --- knowledge -----------------------------------------------------------------------------------


def viewed(article: Article, user: User, at: datetime) -> ArticleView:
    return ArticleView.objects.create(article=article, user=user, day=at.astimezone(PARIS).date(), viewed_at=at)


def deflected(article: Article, user: User, at: datetime) -> Deflection:
    return Deflection.objects.create(article=article, user=user, query="printer", created_at=at)


def voted(article: Article, user: User, *, helpful: bool, at: datetime) -> HelpfulVote:
    return HelpfulVote.objects.create(article=article, user=user, helpful=helpful, updated_at=at)


def searched(query: str, user: User, at: datetime) -> FailedSearch:
    day: date = at.astimezone(PARIS).date()
    return FailedSearch.objects.create(query=query, user=user, day=day, searched_at=at)


def days(n: int) -> timedelta:
    return timedelta(days=n)
