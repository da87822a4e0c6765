"""The approval engine for catalog requests: stages running at the same time (parallel groups),
a rejection closing the stages beside it, reminders after the item's delay (once), and deputies."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from palier.catalog import services
from palier.catalog.models import Approval, ApprovalStep, Submission
from palier.catalog.services import approvals as engine
from palier.catalog.tests.builders import make_item, submit
from palier.lib.errors import PermissionDenied
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import Organisation, User
from palier.tickets.models import Ticket, TicketEvent

S = Ticket.Status
D = Approval.Decision
ST = ApprovalStep.State


@pytest.fixture
def approvers(org: Organisation) -> dict[str, User]:
    return {
        name: people.create_user(email=f"{name}@acme.test", full_name=name.capitalize(), organisation=org)
        for name in ("finance", "security", "director", "deputy")
    }


def _pending(user: User) -> Approval:
    return Approval.objects.get(approver=user, decision=D.PENDING)


def _two_parallel_then_one(approvers: dict[str, User], **extra: Any) -> Any:
    return make_item(
        stages=[
            {"kind": "people", "people": [approvers["finance"]]},
            {"kind": "people", "people": [approvers["security"]], "with_previous": True},
            {"kind": "people", "people": [approvers["director"]]},
        ],
        **extra,
    )


def _states(ticket: Ticket) -> list[str]:
    return list(
        ApprovalStep.objects.filter(submission__ticket=ticket).order_by("order").values_list("state", flat=True)
    )


def test_stages_of_a_parallel_group_are_asked_together_and_the_next_waits_for_all(
    requester: User, approvers: dict[str, User]
) -> None:
    ticket = submit(_two_parallel_then_one(approvers), requester)
    assert _states(ticket) == [ST.OPEN, ST.OPEN, ST.WAITING]
    assert set(OutgoingEmail.objects.values_list("address", flat=True)) == {"finance@acme.test", "security@acme.test"}

    services.decide(approval=_pending(approvers["security"]), decision=D.APPROVED, by=approvers["security"])
    assert _states(ticket) == [ST.OPEN, ST.APPROVED, ST.WAITING]  # finance still decides
    assert not Approval.objects.filter(approver=approvers["director"]).exists()

    services.decide(approval=_pending(approvers["finance"]), decision=D.APPROVED, by=approvers["finance"])
    assert _states(ticket) == [ST.APPROVED, ST.APPROVED, ST.OPEN]
    services.decide(approval=_pending(approvers["director"]), decision=D.APPROVED, by=approvers["director"])
    ticket.refresh_from_db()
    assert ticket.status == S.NEW
    assert Submission.objects.get(ticket=ticket).state == Submission.State.FULFILMENT


def test_a_rejection_in_a_parallel_group_closes_the_other_stages(requester: User, approvers: dict[str, User]) -> None:
    ticket = submit(_two_parallel_then_one(approvers), requester)
    services.decide(
        approval=_pending(approvers["finance"]), decision=D.REJECTED, comment="No budget", by=approvers["finance"]
    )
    assert _states(ticket) == [ST.REJECTED, ST.SKIPPED, ST.SKIPPED]
    assert Approval.objects.get(approver=approvers["security"]).decision == D.NOT_NEEDED
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    # security's link now answers "already decided"
    with pytest.raises(services.AlreadyDecided):
        services.decide(approval=Approval.objects.get(approver=approvers["security"]), decision=D.APPROVED, by=None)


def test_a_parallel_stage_with_nobody_to_ask_is_skipped_and_the_other_still_decides(
    requester: User, approvers: dict[str, User]
) -> None:
    item = make_item(
        stages=[
            {"kind": "manager"},  # the requester has no manager
            {"kind": "people", "people": [approvers["finance"]], "with_previous": True},
        ]
    )
    ticket = submit(item, requester)
    assert _states(ticket) == [ST.SKIPPED, ST.OPEN]
    services.decide(approval=_pending(approvers["finance"]), decision=D.APPROVED, by=approvers["finance"])
    ticket.refresh_from_db()
    assert ticket.status == S.NEW


def test_sequential_stages_are_unchanged(requester: User, approvers: dict[str, User]) -> None:
    item = make_item(
        stages=[
            {"kind": "people", "people": [approvers["finance"]]},
            {"kind": "people", "people": [approvers["security"]]},
        ]
    )
    ticket = submit(item, requester)
    assert _states(ticket) == [ST.OPEN, ST.WAITING]


def test_the_first_stage_flagged_with_the_previous_starts_its_own_group(
    requester: User, approvers: dict[str, User]
) -> None:
    item = make_item(stages=[{"kind": "people", "people": [approvers["finance"]], "with_previous": True}])
    ticket = submit(item, requester)
    assert ApprovalStep.objects.get(submission__ticket=ticket).with_previous is False


# --- reminders ---------------------------------------------------------------------------------------


def _reminders() -> list[str]:
    return sorted(
        OutgoingEmail.objects.filter(key__startswith="catalog-approval-reminder-").values_list("address", flat=True)
    )


def test_reminders_after_the_items_delay_once_each(
    requester: User, approvers: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    ticket = submit(_two_parallel_then_one(approvers, remind_after_hours=24), requester)
    assert engine.send_reminders() == 0  # not due yet
    later = timezone.now() + datetime.timedelta(hours=25)
    services.decide(approval=_pending(approvers["security"]), decision=D.APPROVED, by=approvers["security"])
    with django_assert_max_num_queries(20):
        assert engine.send_reminders(now=later) == 1  # finance only: security decided
    assert _reminders() == ["finance@acme.test"]
    reminder = OutgoingEmail.objects.get(key__startswith="catalog-approval-reminder-")
    assert ticket.requester.display_name in reminder.subject
    assert "Approbation requise" in reminder.subject  # French: the approver has no language
    assert engine.send_reminders(now=later) == 0  # a second run (or a second worker) reminds nobody again
    assert _reminders() == ["finance@acme.test"]


def test_no_reminder_without_a_delay_or_once_the_request_left_approval(
    requester: User, approvers: dict[str, User]
) -> None:
    ticket = submit(_two_parallel_then_one(approvers), requester)  # remind_after_hours = 0: never
    later = timezone.now() + datetime.timedelta(days=30)
    assert engine.send_reminders(now=later) == 0
    item = _two_parallel_then_one(approvers, remind_after_hours=1)
    other = submit(item, requester)
    services.withdraw_approvals(Submission.objects.get(ticket=other))
    assert engine.send_reminders(now=later) == 0
    assert _reminders() == []
    assert ticket.pk


def test_two_items_with_different_delays(requester: User, approvers: dict[str, User]) -> None:
    submit(make_item(stages=[{"kind": "people", "people": [approvers["finance"]]}], remind_after_hours=2), requester)
    submit(make_item(stages=[{"kind": "people", "people": [approvers["security"]]}], remind_after_hours=48), requester)
    assert engine.send_reminders(now=timezone.now() + datetime.timedelta(hours=3)) == 1
    assert _reminders() == ["finance@acme.test"]
    assert engine.send_reminders(now=timezone.now() + datetime.timedelta(hours=49)) == 1
    assert _reminders() == ["finance@acme.test", "security@acme.test"]


# --- deputies ----------------------------------------------------------------------------------------


def test_an_approval_asked_while_away_goes_to_the_deputy_who_decides_on_behalf(
    requester: User, approvers: dict[str, User]
) -> None:
    finance, deputy = approvers["finance"], approvers["deputy"]
    today = timezone.localdate()
    services.set_delegation(user=finance, deputy=deputy, starts_on=today, ends_on=today + datetime.timedelta(days=3))
    ticket = submit(_two_parallel_then_one(approvers), requester)
    assert not Approval.objects.filter(approver=finance).exists()
    approval = _pending(deputy)
    assert approval.on_behalf_of == finance
    mail = OutgoingEmail.objects.get(address="deputy@acme.test")
    assert "Finance" in mail.text

    with pytest.raises(PermissionDenied):  # the absent person cannot decide it
        services.decide(approval=approval, decision=D.APPROVED, by=finance)
    services.decide(approval=approval, decision=D.APPROVED, comment="OK for Finance", by=deputy)
    events = [e.data for e in TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.APPROVAL)]
    asked = next(e for e in events if e["decision"] == "asked" and "Deputy" in e["approvers"])
    assert asked["stage"] == 1
    approved = next(e for e in events if e["decision"] == "approved")
    assert approved["approver"] == "Deputy" and approved["on_behalf_of"] == "Finance"
