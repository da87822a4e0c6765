"""The change advisory board: the catalog's approval engine deciding changes (rules any, all and
quorum, the approval paths, not on the board, after the decision, delegation, reminders)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.catalog.models import Approval, ApprovalDelegation, ApprovalStep
from palier.catalog.services import approvals as engine
from palier.changes import services
from palier.changes.models import Change, ChangeApprovalStage, ChangeBoard, ChangeEvent, ChangeSettings
from palier.changes.services import boards
from palier.lib.errors import PermissionDenied
from palier.notifications.models import OutgoingEmail
from palier.people import services as people
from palier.people.models import SupportGroup, User

pytestmark = pytest.mark.django_db
S = Change.Status


def member(group: SupportGroup, name: str) -> User:
    user = people.create_user(
        email=f"{name.lower()}@desk.test", full_name=name, role=User.Role.AGENT, password="pw-x-123456!"
    )
    people.add_group_member(group, user=user)
    return user


@pytest.fixture
def cab() -> tuple[SupportGroup, list[User]]:
    group = people.create_group(name="CAB", level=2)
    return group, [member(group, n) for n in ("Ana", "Ben", "Cyd")]


def board(admin: User, group: SupportGroup, rule: str, quorum: int | None = None, **kw: object) -> ChangeBoard:
    return boards.save_board(by=admin, name=f"Board {rule}", group=group, rule=rule, quorum=quorum, **kw)  # type: ignore[arg-type]


def ready_change(by: User, kind: str = "normal", risk: str = "low") -> Change:
    start = timezone.now() + timedelta(days=3)
    change = services.create_change(
        by=by,
        kind=kind,
        title="Upgrade the core switch",
        planned_start=start,
        planned_end=start + timedelta(hours=2),
        implementation_plan="Upgrade",
        backout_plan="Downgrade",
    )
    Change.objects.filter(pk=change.pk).update(risk=risk)
    change.refresh_from_db()
    if kind == "normal":
        change = services.transition_change(change, to=S.ASSESSMENT, by=by)
    return change


def ask(change: Change, by: User) -> Change:
    return services.transition_change(change, to=S.AWAITING_APPROVAL, by=by)


def pending(user: User) -> Approval:
    return Approval.objects.get(approver=user, decision=Approval.Decision.PENDING)


def status(change: Change) -> str:
    change.refresh_from_db()
    return change.status


def test_quorum_two_of_three(agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]) -> None:
    group, (ana, ben, cyd) = cab
    b = board(admin_user, group, "quorum", 2)
    ChangeApprovalStage.objects.create(path="normal", board=b, order=1)
    change = ask(ready_change(agent), agent)
    assert Approval.objects.filter(decision="pending").count() == 3
    engine.decide(approval=pending(ana), decision="approved", by=ana)
    assert status(change) == S.AWAITING_APPROVAL
    engine.decide(approval=pending(ben), decision="rejected", comment="Too risky on a Friday", by=ben)
    assert status(change) == S.AWAITING_APPROVAL  # 2 still reachable (Ana + Cyd)
    engine.decide(approval=pending(cyd), decision="approved", by=cyd)
    assert status(change) == S.APPROVED
    data = [e.data for e in ChangeEvent.objects.filter(change=change, kind="approval").order_by("id")]
    assert [d["decision"] for d in data] == ["asked", "approved", "rejected", "approved"]
    assert data[2] == {
        "stage": "Board quorum",
        "decision": "rejected",
        "approver": "Ben",
        "comment": "Too risky on a Friday",
        "via": "portal",
    }


def test_quorum_rejected_as_soon_as_unreachable(
    agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]
) -> None:
    group, (ana, ben, cyd) = cab
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "quorum", 2), order=1)
    change = ask(ready_change(agent), agent)
    engine.decide(approval=pending(ana), decision="rejected", comment="No", by=ana)
    assert status(change) == S.AWAITING_APPROVAL
    engine.decide(approval=pending(ben), decision="rejected", comment="No either", by=ben)
    assert status(change) == S.REJECTED
    assert Approval.objects.get(approver=cyd).decision == Approval.Decision.NOT_NEEDED
    assert ChangeEvent.objects.filter(change=change, kind="status").last().data["note"] == "No either"  # type: ignore[union-attr]


def test_all_rule_first_rejection_rejects(agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]) -> None:
    group, (ana, ben, _cyd) = cab
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "all"), order=1)
    change = ask(ready_change(agent), agent)
    engine.decide(approval=pending(ana), decision="approved", by=ana)
    assert status(change) == S.AWAITING_APPROVAL
    engine.decide(approval=pending(ben), decision="rejected", comment="Backout untested", by=ben)
    assert status(change) == S.REJECTED


def test_any_rule_first_approval_approves(agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]) -> None:
    group, (_ana, ben, _cyd) = cab
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "any"), order=1)
    change = ask(ready_change(agent), agent)
    engine.decide(approval=pending(ben), decision="approved", by=ben)
    assert status(change) == S.APPROVED
    assert not Approval.objects.filter(decision="pending").exists()


def test_emergency_changes_go_to_the_emergency_board_and_min_risk_skips_stages(
    agent: User, agent_l2: User, admin_user: User, cab: tuple[SupportGroup, list[User]], l2: SupportGroup
) -> None:
    group, (ana, _ben, _cyd) = cab
    normal = board(admin_user, group, "any")
    ecab = boards.save_board(by=admin_user, name="ECAB", group=l2, rule="any", is_emergency=True)
    ChangeApprovalStage.objects.create(path="normal", board=normal, order=1)
    ChangeApprovalStage.objects.create(path="emergency", board=ecab, order=1)
    ChangeApprovalStage.objects.create(path="emergency", board=normal, order=2, min_risk="high")
    change = ask(ready_change(agent, kind="emergency", risk="medium"), agent)
    assert list(ApprovalStep.objects.filter(subject_id=change.pk).values_list("label", flat=True)) == ["ECAB"]
    assert not Approval.objects.filter(approver=ana).exists()
    engine.decide(approval=pending(agent_l2), decision="approved", by=agent_l2)
    assert status(change) == S.APPROVED
    # a high-risk emergency change also needs the second stage
    risky = ask(ready_change(agent, kind="emergency", risk="high"), agent)
    engine.decide(approval=pending(agent_l2), decision="approved", by=agent_l2)
    assert status(risky) == S.AWAITING_APPROVAL and pending(ana).step.label == "Board any"


def test_no_board_for_the_path_refuses_and_changes_nothing(agent: User) -> None:
    change = ready_change(agent)
    with pytest.raises(ValidationError, match="No change board is set up for normal changes"):
        ask(change, agent)
    assert status(change) == S.ASSESSMENT and not ApprovalStep.objects.exists()


def test_not_on_board_after_decision_and_double_click(
    agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]
) -> None:
    group, (ana, ben, _cyd) = cab
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "all"), order=1)
    change = ask(ready_change(agent), agent)
    approval = pending(ana)
    with pytest.raises(PermissionDenied):
        engine.decide(approval=approval, decision="approved", by=agent)  # not on the board
    assert pending(ana).decision == "pending"
    engine.decide(approval=approval, decision="approved", by=ana)
    with pytest.raises(engine.AlreadyDecided):
        engine.decide(approval=approval, decision="rejected", comment="changed my mind", by=ana)  # second click
    assert Approval.objects.get(pk=approval.pk).decision == "approved"
    # the change is sent back: the approvals still asked are withdrawn, deciding them changes nothing
    services.transition_change(change, to=S.ASSESSMENT, by=agent)
    assert Approval.objects.get(approver=ben).decision == Approval.Decision.NOT_NEEDED
    with pytest.raises(engine.AlreadyDecided):
        engine.decide(approval=Approval.objects.get(approver=ben), decision="approved", by=ben)
    assert status(change) == S.ASSESSMENT
    # asked again: a new round, fresh approvals
    ask(change, agent)
    assert Approval.objects.filter(decision="pending").count() == 3


def test_a_quorum_above_the_members_is_refused(
    admin_user: User, agent: User, cab: tuple[SupportGroup, list[User]]
) -> None:
    group, _people = cab
    with pytest.raises(ValidationError, match="exceeds the board's 3 active members"):
        board(admin_user, group, "quorum", 4)
    with pytest.raises(PermissionDenied):
        board(agent, group, "any")
    assert not ChangeBoard.objects.exists()


def test_delegation_goes_one_step_and_is_recorded(
    agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]
) -> None:
    group, (ana, ben, cyd) = cab
    deputy = people.create_user(email="dee@desk.test", full_name="Dee", role=User.Role.AGENT, password="pw-dee-123456!")
    far = people.create_user(email="far@desk.test", full_name="Far", role=User.Role.AGENT, password="pw-far-123456!")
    today = timezone.localdate()
    ApprovalDelegation.objects.create(user=ana, deputy=deputy, starts_on=today, ends_on=today + timedelta(days=2))
    ApprovalDelegation.objects.create(user=deputy, deputy=far, starts_on=today, ends_on=today)  # not followed
    ApprovalDelegation.objects.create(
        user=ben, deputy=cyd, starts_on=today - timedelta(days=9), ends_on=today - timedelta(days=1)
    )
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "all"), order=1)
    change = ask(ready_change(agent), agent)
    asked = {a.approver.display_name: a.on_behalf_of for a in Approval.objects.select_related("approver")}
    assert asked == {"Dee": ana, "Ben": None, "Cyd": None}
    engine.decide(approval=pending(deputy), decision="approved", by=deputy)
    event = ChangeEvent.objects.filter(change=change, kind="approval").last()
    assert event is not None and event.data["approver"] == "Dee" and event.data["on_behalf_of"] == "Ana"
    with pytest.raises(Approval.DoesNotExist):
        pending(ana)


def test_reminders_are_sent_once(agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]) -> None:
    group, (ana, _ben, _cyd) = cab
    ChangeSettings.objects.update_or_create(pk=1, defaults={"remind_after_hours": 4})
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "quorum", 2), order=1)
    ask(ready_change(agent), agent)
    engine.decide(approval=pending(ana), decision="approved", by=ana)
    first = OutgoingEmail.objects.count()
    assert engine.send_reminders() == 0  # not due yet
    later = timezone.now() + timedelta(hours=5)
    assert engine.send_reminders(now=later) == 2  # Ben and Cyd, not Ana who decided
    assert engine.send_reminders(now=later + timedelta(hours=5)) == 0
    assert OutgoingEmail.objects.count() == first + 2
    assert OutgoingEmail.objects.filter(subject__startswith="Rappel").count() == 2  # in their language: French


def test_a_catalog_stage_may_use_a_quorum_too(requester: User, cab: tuple[SupportGroup, list[User]]) -> None:
    from palier.catalog import services as catalog
    from palier.catalog.models import ApprovalStage, CatalogItem, Submission

    group, (ana, ben, _cyd) = cab
    item = CatalogItem.objects.create(name_fr="Portable", name_en="Laptop")
    ApprovalStage.objects.create(item=item, order=1, kind="group", group=group, rule="quorum", quorum=2)
    ticket = catalog.submit_request(item=item, requester=requester, answers={})
    submission = Submission.objects.get(ticket=ticket)
    assert submission.steps.get().quorum == 2
    engine.decide(approval=pending(ana), decision="approved", by=ana)
    submission.refresh_from_db()
    assert submission.state == Submission.State.APPROVAL
    engine.decide(approval=pending(ben), decision="approved", by=ben)
    submission.refresh_from_db()
    assert submission.state != Submission.State.APPROVAL


def test_a_board_without_active_member_refuses_and_in_app_requests_are_read_once_decided(
    agent: User, admin_user: User, cab: tuple[SupportGroup, list[User]]
) -> None:
    from palier.notifications.models import Notification

    group, (ana, ben, cyd) = cab
    ChangeApprovalStage.objects.create(path="normal", board=board(admin_user, group, "any"), order=1)
    User.objects.filter(pk__in=[ana.pk, ben.pk, cyd.pk]).update(is_active=False)
    change = ready_change(agent)
    with pytest.raises(ValidationError, match="has no active member"):
        ask(change, agent)
    assert status(change) == S.ASSESSMENT
    User.objects.filter(pk__in=[ana.pk, ben.pk, cyd.pk]).update(is_active=True)
    ask(change, agent)
    note = Notification.objects.get(recipient=ben)
    assert note.kind == "approval" and note.data["reference"] == change.reference and note.read_at is None
    engine.decide(approval=pending(ana), decision="approved", by=ana)
    assert Notification.objects.filter(read_at__isnull=True).count() == 0  # Ben's is no longer needed
