"""Submitting catalog requests, approvals in stages, fulfilment tasks and the parent request's
automatic resolution, through the services like the pages call them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from palier.catalog import services
from palier.catalog.models import Approval, ApprovalStep, Submission
from palier.catalog.tests.builders import make_item, submit
from palier.lib.errors import NotFound, PermissionDenied
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import Organisation, SupportGroup, User
from palier.tickets import search
from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent, TicketLink

S = Ticket.Status
D = Approval.Decision


@pytest.fixture
def boss(requester: User, org: Organisation) -> User:
    boss = people.create_user(email="boss@acme.test", full_name="Bea Boss", organisation=org, password="pw-bea-123!")
    requester.manager = boss
    requester.save(update_fields=["manager"])
    return boss


def _pending(user: User) -> Approval:
    return Approval.objects.get(approver=user, decision=D.PENDING)


def _events(ticket: Ticket, kind: str) -> list[dict[str, object]]:
    return [e.data for e in TicketEvent.objects.filter(ticket=ticket, kind=kind).order_by("id")]


# --- submission -----------------------------------------------------------------------------------


def test_submission_opens_a_searchable_request_with_structured_answers(requester: User, l2: SupportGroup) -> None:
    item = make_item(
        name="Install software",
        target_group=l2,
        fields=[{"key": "what", "kind": "short_text", "required": True}, {"key": "why", "kind": "long_text"}],
    )
    ticket = submit(item, requester, {"f_what": "Inkscape 1.3", "f_why": "Diagrams for the quarterly report"})
    assert ticket.kind == Ticket.Kind.REQUEST and ticket.channel == Ticket.Channel.WEB
    assert ticket.subject == "Install software — Inkscape 1.3"
    assert ticket.group == l2 and ticket.status == S.NEW
    assert "Why: Diagrams for the quarterly report" in ticket.description
    submission = Submission.objects.get(ticket=ticket)
    assert submission.answer_rows() == [("What", "Inkscape 1.3"), ("Why", "Diagrams for the quarterly report")]
    found = Ticket.objects.filter(search.matching("quarterly diagrams", include_internal=False))
    assert list(found) == [ticket]
    # the history says the requester asked, not "Palier"
    assert ticket.created_by == requester
    assert ticket.events.get(kind="created").actor == requester


def test_attachment_answers_become_ticket_attachments(requester: User) -> None:
    item = make_item(fields=[{"key": "quote", "kind": "attachment", "required": True}])
    upload = SimpleUploadedFile("quote.pdf", b"%PDF-1.4\n1 0 obj\n", content_type="application/pdf")
    ticket = submit(item, requester, {}, {"f_quote": upload})
    attachment = ticket.attachments.get()
    assert attachment.filename == "quote.pdf"
    answer = Submission.objects.get(ticket=ticket).answers[0]
    assert answer["value"] == {"name": "quote.pdf", "attachment": attachment.pk} and answer["text"] == "quote.pdf"


def test_an_item_restricted_to_another_organisation_cannot_be_requested(
    requester: User, other_org: Organisation
) -> None:
    item = make_item(visibility="organisations")
    item.organisations.set([other_org])
    with pytest.raises(NotFound):
        submit(item, requester)
    assert not Ticket.objects.exists()


# --- approvals ------------------------------------------------------------------------------------


def test_manager_then_named_person_approve_and_tasks_start(
    requester: User, boss: User, requester_b: User, triage: SupportGroup
) -> None:
    item = make_item(stages=[{"kind": "manager"}, {"kind": "people", "people": [requester_b]}], tasks=[("Ship", None)])
    ticket = submit(item, requester)
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_APPROVAL
    assert list(OutgoingEmail.objects.values_list("address", flat=True)) == ["boss@acme.test"]
    assert not Approval.objects.filter(approver=requester_b).exists()  # stage 2 not asked yet

    services.decide(approval=_pending(boss), decision=D.APPROVED, comment="", by=boss)
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_APPROVAL
    assert OutgoingEmail.objects.filter(address="bob@acme.test").count() == 1

    services.decide(approval=_pending(requester_b), decision=D.APPROVED, comment="Fine", by=requester_b)
    ticket.refresh_from_db()
    assert ticket.status == S.NEW
    assert Submission.objects.get(ticket=ticket).state == Submission.State.FULFILMENT
    decisions = [d["decision"] for d in _events(ticket, TicketEvent.Kind.APPROVAL)]
    assert decisions == ["asked", "approved", "asked", "approved"]
    assert TicketLink.objects.filter(source=ticket, kind="parent").count() == 1


def test_group_any_one_approval_is_enough(requester: User, agent: User, triage: SupportGroup) -> None:
    second = people.create_user(email="sam@desk.test", full_name="Sam", role=User.Role.AGENT, password="pw-sam-123!")
    people.add_group_member(triage, user=second)
    item = make_item(stages=[{"kind": "group", "group": triage, "rule": "any"}])
    ticket = submit(item, requester)
    assert Approval.objects.filter(decision=D.PENDING).count() == 2
    services.decide(approval=_pending(second), decision=D.APPROVED, by=second)
    ticket.refresh_from_db()
    assert ticket.status == S.NEW
    assert Approval.objects.get(approver=agent).decision == D.NOT_NEEDED


def test_group_all_must_approve(requester: User, agent: User, triage: SupportGroup) -> None:
    second = people.create_user(email="sam@desk.test", full_name="Sam", role=User.Role.AGENT, password="pw-sam-123!")
    people.add_group_member(triage, user=second)
    item = make_item(stages=[{"kind": "group", "group": triage, "rule": "all"}])
    ticket = submit(item, requester)
    services.decide(approval=_pending(agent), decision=D.APPROVED, by=agent)
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING_APPROVAL
    services.decide(approval=_pending(second), decision=D.APPROVED, by=second)
    ticket.refresh_from_db()
    assert ticket.status == S.NEW


def test_rejection_closes_the_request_with_the_reason_as_a_public_comment(
    requester: User, boss: User, requester_b: User
) -> None:
    item = make_item(stages=[{"kind": "manager"}, {"kind": "people", "people": [requester_b]}], tasks=[("Ship", None)])
    ticket = submit(item, requester)
    with pytest.raises(ValidationError):  # a rejection needs a reason
        services.decide(approval=_pending(boss), decision=D.REJECTED, comment=" ", by=boss)
    services.decide(approval=_pending(boss), decision=D.REJECTED, comment="Budget frozen until March", by=boss)
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    comment = ticket.comments.get()
    assert not comment.is_internal and "Budget frozen until March" in comment.body
    assert Submission.objects.get(ticket=ticket).state == Submission.State.REJECTED
    assert list(ApprovalStep.objects.filter(submission__ticket=ticket).values_list("state", flat=True)) == [
        "rejected",
        "skipped",
    ]
    assert not Approval.objects.filter(approver=requester_b).exists()
    assert not Ticket.objects.exclude(pk=ticket.pk).exists()  # no task was opened


def test_only_the_approver_decides_and_only_once(requester: User, boss: User, requester_b: User) -> None:
    item = make_item(stages=[{"kind": "manager"}])
    ticket = submit(item, requester)
    approval = _pending(boss)
    with pytest.raises(PermissionDenied):
        services.decide(approval=approval, decision=D.APPROVED, by=requester_b)
    services.decide(approval=approval, decision=D.APPROVED, by=boss)
    with pytest.raises(services.AlreadyDecided):
        services.decide(approval=approval, decision=D.REJECTED, comment="changed my mind", by=boss)
    ticket.refresh_from_db()
    assert ticket.status == S.NEW


def test_stage_without_approver_is_skipped(requester: User) -> None:
    ticket = submit(make_item(stages=[{"kind": "manager"}]), requester)  # the requester has no manager
    ticket.refresh_from_db()
    assert ticket.status == S.NEW
    assert [d["decision"] for d in _events(ticket, TicketEvent.Kind.APPROVAL)] == ["skipped"]


def test_withdrawing_a_request_cancels_its_pending_approvals(requester: User, boss: User) -> None:
    ticket = submit(make_item(stages=[{"kind": "manager"}]), requester)
    tickets.transition_ticket(ticket, to=S.CANCELLED, by=requester)
    assert Approval.objects.get(approver=boss).decision == D.NOT_NEEDED
    with pytest.raises(services.AlreadyDecided):
        services.decide(approval=Approval.objects.get(approver=boss), decision=D.APPROVED, by=boss)


# --- fulfilment -----------------------------------------------------------------------------------


def _resolve(ticket: Ticket, agent: User) -> None:
    tickets.transition_ticket(Ticket.objects.get(pk=ticket.pk), to=S.RESOLVED, by=agent)


def test_tasks_in_order_open_one_after_the_other_then_the_request_resolves(
    requester: User, agent: User, agent_l2: User, triage: SupportGroup, l2: SupportGroup
) -> None:
    item = make_item(tasks=[("Account", triage), ("Laptop", l2)], fulfilment="sequential")
    parent = submit(item, requester)
    submission = Submission.objects.get(ticket=parent)
    first, second = submission.tasks.order_by("order")
    assert first.ticket is not None and second.ticket is None
    assert first.ticket.group == triage and first.ticket.kind == Ticket.Kind.REQUEST
    assert first.ticket.subject == f"Account ({parent.reference})"

    _resolve(first.ticket, agent)
    second.refresh_from_db()
    assert second.ticket is not None and second.ticket.group == l2
    parent.refresh_from_db()
    assert parent.status == S.NEW

    _resolve(second.ticket, agent_l2)
    parent.refresh_from_db()
    assert parent.status == S.RESOLVED
    actions = [d["action"] for d in _events(parent, TicketEvent.Kind.TASK)]
    assert actions == ["opened", "resolved", "opened", "resolved", "all-done"]


def test_tasks_in_parallel_open_at_once_and_the_request_resolves_when_all_are_done(
    requester: User, agent: User, triage: SupportGroup
) -> None:
    item = make_item(tasks=[("Account", triage), ("Badge", triage), ("Phone", triage)], fulfilment="parallel")
    parent = submit(item, requester)
    children = [t.ticket for t in Submission.objects.get(ticket=parent).tasks.order_by("order")]
    assert all(child is not None for child in children)
    _resolve(children[0], agent)
    tickets.transition_ticket(Ticket.objects.get(pk=children[1].pk), to=S.CANCELLED, by=agent)  # type: ignore[union-attr]
    parent.refresh_from_db()
    assert parent.status == S.NEW
    _resolve(children[2], agent)  # type: ignore[arg-type]
    parent.refresh_from_db()
    assert parent.status == S.RESOLVED
    assert Submission.objects.get(ticket=parent).state == Submission.State.DONE


# --- seeds ----------------------------------------------------------------------------------------


def test_seeded_onboarding_opens_its_four_tasks_after_the_manager_approves(
    requester: User, boss: User, triage: SupportGroup
) -> None:
    from django.apps import apps

    from palier.catalog.models import CatalogItem
    from palier.catalog.seed import seed

    seed(apps, None)
    seed(apps, None)  # idempotent
    assert CatalogItem.objects.filter(slug="onboarding").count() == 1
    item = CatalogItem.objects.get(slug="onboarding")
    data = {"f_full_name": "Hugo Petit", "f_start_date": "2026-12-07", "f_job": "Accountant, Finance",
            "f_manager": "boss@acme.test", "f_phone": "on"}  # fmt: skip
    parent = submit(item, requester, data)
    assert parent.subject == "New employee onboarding — Hugo Petit"
    services.decide(approval=_pending(boss), decision=D.APPROVED, by=boss)
    subjects = list(Submission.objects.get(ticket=parent).tasks.values_list("subject_en", flat=True))
    assert subjects == ["Create the account", "Prepare the laptop", "Provide the phone", "Make the badge"]
    assert Ticket.objects.filter(catalog_task__submission__ticket=parent).count() == 1  # one after the other


def test_editing_the_item_changes_no_request_already_made(requester: User, boss: User, requester_b: User) -> None:
    item = make_item(stages=[{"kind": "manager"}, {"kind": "people", "people": [requester_b]}], tasks=[("Ship", None)])
    ticket = submit(item, requester)
    item.stages.all().delete()
    item.task_templates.all().delete()
    services.decide(approval=_pending(boss), decision=D.APPROVED, by=boss)
    services.decide(approval=_pending(requester_b), decision=D.APPROVED, by=requester_b)  # still asked
    assert Submission.objects.get(ticket=ticket).tasks.get().ticket is not None
