from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Max

from palier.demo.tickets import DEMO_LOGINS, DEMO_PASSWORD, run_demo
from palier.people.models import Organisation, SupportGroup, User
from palier.tickets import services
from palier.tickets.models import Comment, SearchEntry, Ticket, TicketEvent
from palier.tickets.selectors import TicketFilters, ticket_page

S = Ticket.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    run_demo(tickets=400, seed=7)


def test_demo_creates_the_people(demo):
    assert User.objects.filter(role=User.Role.REQUESTER).count() == 2_000
    assert set(User.objects.filter(role=User.Role.REQUESTER).values_list("language", flat=True)) == {"fr", "en"}
    assert 45 <= User.objects.filter(role=User.Role.AGENT).count() <= 55
    assert User.objects.filter(role=User.Role.MANAGER).count() == 4
    assert Organisation.objects.filter(share_tickets=True).exists()
    assert Organisation.objects.filter(departments__isnull=False).distinct().count() >= 3
    levels = set(SupportGroup.objects.values_list("level", flat=True))
    assert levels == {1, 2, 3, 4}
    assert SupportGroup.objects.filter(level=4, is_vendor=True).exists()
    for email in DEMO_LOGINS.values():
        assert User.objects.get(email=email).check_password(DEMO_PASSWORD)
    agent = User.objects.get(email=DEMO_LOGINS["agent"])
    assert agent.support_groups.filter(is_triage=True, level=1).exists()
    assert User.objects.get(email=DEMO_LOGINS["admin"]).is_admin


def test_demo_tickets_cover_every_status_and_kind_with_consistent_timestamps(demo):
    assert Ticket.objects.count() == 400
    # "pending approval" belongs to catalog requests, which have approval stages the demo does not invent
    assert set(Ticket.objects.values_list("status", flat=True)) == set(S.values) - {S.PENDING_APPROVAL}
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Ticket.Kind.values)
    assert set(Ticket.objects.values_list("priority", flat=True)) == {1, 2, 3, 4}
    working = [S.ASSIGNED, S.IN_PROGRESS, S.PENDING_REQUESTER, S.PENDING_VENDOR, S.PENDING_CHANGE, S.RESOLVED]
    assert not Ticket.objects.filter(status__in=working, assignee__isnull=True).exists()
    assert not Ticket.objects.filter(status=S.NEW, assignee__isnull=False).exists()
    assert not Ticket.objects.filter(status__in=[S.RESOLVED, S.CLOSED], resolved_at__isnull=True).exists()
    assert not Ticket.objects.filter(status__in=[S.RESOLVED, S.CLOSED], resolved_level__isnull=True).exists()
    assert set(Ticket.objects.exclude(resolved_level=None).values_list("resolved_level", flat=True)) == {1, 2, 3, 4}
    assert not Ticket.objects.filter(status__in=[S.CLOSED, S.CANCELLED], closed_at__isnull=True).exists()
    assert not Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES, closed_at__isnull=False).exists()
    for ticket in Ticket.objects.exclude(first_response_at=None):
        assert ticket.created_at <= ticket.first_response_at <= ticket.updated_at
    for ticket in Ticket.objects.exclude(resolved_at=None):
        assert ticket.created_at <= ticket.resolved_at
        assert ticket.closed_at is None or ticket.resolved_at <= ticket.closed_at


def test_demo_writes_conversations_history_and_search_entries(demo):
    assert Comment.objects.filter(is_internal=True).exists()
    assert Comment.objects.filter(is_internal=False).exists()
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED).count() == 400
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.STATUS).exists()
    assert SearchEntry.objects.count() == 400 + Comment.objects.count()
    closed = Ticket.objects.filter(status=S.CLOSED).first()
    assert list(closed.events.filter(kind="status").values_list("data__new", flat=True)) == [
        S.ASSIGNED,
        S.IN_PROGRESS,
        S.RESOLVED,
        S.CLOSED,
    ]


def test_search_finds_a_demo_ticket_by_a_word_of_its_subject(demo):
    admin = User.objects.get(email=DEMO_LOGINS["admin"])
    ticket = Ticket.objects.order_by("id")[17]
    word = max(ticket.subject.split(), key=len).strip("():")
    page = ticket_page(admin, filters=TicketFilters(q=word), limit=500)
    assert ticket in page.items


def test_the_demo_agent_sees_the_triage_queue(demo):
    agent = User.objects.get(email=DEMO_LOGINS["agent"])
    triage = SupportGroup.objects.get(is_triage=True)
    page = ticket_page(agent, filters=TicketFilters(group=triage.pk, status=[S.NEW]), sort="priority")
    assert page.items
    assert all(t.group_id == triage.pk and t.status == S.NEW for t in page.items)


def test_tickets_opened_after_the_demo_get_fresh_numbers(demo):
    requester = User.objects.get(email=DEMO_LOGINS["requester"])
    for kind in Ticket.Kind.values:
        last = Ticket.objects.filter(kind=kind).aggregate(m=Max("number"))["m"]
        ticket = services.open_ticket(requester=requester, subject="Après la démo", kind=kind, by=requester)
        assert ticket.number == last + 1


def test_running_the_command_again_adds_tickets_only():
    out = StringIO()
    call_command("demo", tickets=30, seed=1, stdout=out)
    users = User.objects.count()
    call_command("demo", tickets=20, stdout=out)
    assert User.objects.count() == users
    assert Ticket.objects.count() == 50
    numbers = list(Ticket.objects.values_list("kind", "number"))
    assert len(numbers) == len(set(numbers))
    text = out.getvalue()
    assert "added tickets only" in text
    assert DEMO_LOGINS["agent"] in text and DEMO_PASSWORD in text
    _assert_problems_and_changes()


def _assert_problems_and_changes() -> None:
    """The demo's problems, major incident, changes, board and freeze (added once)."""
    from palier.changes.models import Change, ChangeApprovalStage, ChangeAsset, ChangeBoard, FreezeWindow
    from palier.problems.models import MajorIncident, Problem

    assert Problem.objects.count() == 4
    known = Problem.objects.get(status="known_error")
    assert known.has_workaround and known.asset_links.filter(asset__tag="NET-VPN-01").exists()
    assert known.incident_links.count() >= 3
    assert set(Problem.objects.values_list("status", flat=True)) >= {"known_error", "investigating", "resolved"}
    major = MajorIncident.objects.get()
    assert major.state == "active" and major.published and major.status_note and major.incident_links.count() == 1
    assert 20 <= Change.objects.count() <= 30
    assert set(Change.objects.values_list("status", flat=True)) == set(Change.Status.values)
    assert set(Change.objects.values_list("kind", flat=True)) == set(Change.Kind.values)
    on_host = list(ChangeAsset.objects.filter(asset__tag="SRV-ESX-LYO-01").values_list("change_id", flat=True))
    first, second = Change.objects.filter(pk__in=on_host).order_by("planned_start")
    assert second.planned_start < first.planned_end  # the conflict
    freeze = FreezeWindow.objects.get()
    assert Change.objects.filter(planned_start__gte=freeze.starts_at, planned_start__lt=freeze.ends_at).count() == 1
    board = ChangeBoard.objects.get(is_emergency=False)
    assert board.rule == "quorum" and board.quorum == 2 and board.group.name == "Change advisory board"
    members = set(board.group.members.values_list("email", flat=True))
    assert members == {DEMO_LOGINS["manager"], DEMO_LOGINS["admin"]}
    assert ChangeApprovalStage.objects.filter(path="normal", board=board).exists()


def test_the_first_sweep_after_the_demo_alerts_nobody_about_old_breaches():
    """The demo's open tickets are weeks old: their breaches are recorded as history, and the first
    SLA sweep has nothing to fire, so nobody gets hundreds of notifications on the first start."""
    from django.utils import timezone

    from palier.notifications.models import Notification
    from palier.sla.models import Clock
    from palier.sla.services.sweep import sweep

    call_command("demo", tickets=300, seed=3, stdout=StringIO())
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA_BREACH).exists()  # old breaches are kept as history
    assert not Clock.objects.filter(next_event_at__lte=timezone.now()).exists()
    before = Notification.objects.count()
    assert sweep()["selected"] == 0
    assert Notification.objects.count() == before


def test_the_demo_logs_time_at_cost_rates_and_answers_surveys(demo):
    """The dashboards' cost and satisfaction panels have something to show: rates per level and for
    the vendor, time logged by the assignees within the tickets' lifetimes, survey answers."""
    from django.utils import timezone

    from palier.surveys.models import SurveyRequest, SurveyResponse
    from palier.timelog.models import CostRate, TimeEntry

    assert set(CostRate.objects.exclude(level=None).values_list("level", flat=True)) == {1, 2, 3}
    vendor = SupportGroup.objects.get(is_vendor=True)
    assert CostRate.objects.get(group=vendor).per_escalation > 0
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.ESCALATED, data__to_group=vendor.name).exists()
    entries = TimeEntry.objects.select_related("ticket")
    assert 0.2 * 400 < entries.values("ticket").distinct().count() < 400
    for entry in entries:
        ticket = entry.ticket
        assert entry.author_id == ticket.assignee_id
        assert 1 <= entry.minutes <= 240
        end = ticket.closed_at or timezone.now()
        assert timezone.localtime(ticket.created_at).date() <= entry.work_date <= timezone.localtime(end).date()
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.TIME_LOGGED).count() == entries.count()
    answers = SurveyResponse.objects.select_related("ticket")
    assert answers.exists()
    assert all(a.ticket.resolved_at is not None and a.ticket.resolved_at <= a.answered_at for a in answers)
    assert SurveyRequest.objects.count() > answers.count()
    assert {a.score for a in answers} >= {4, 5}
