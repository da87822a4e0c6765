"""Automation rules on problems and changes: their triggers, conditions and actions, the outbox
item each history event leaves, exactly once under replays, and the loop guard."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.assets.facts import AssetFacts
from palier.automation import subjects
from palier.automation.models import Rule, SubjectRun
from palier.automation.services import subject_engine
from palier.automation.services.rules import robot
from palier.automation.tests.helpers import http_recorder
from palier.catalog.models import Approval
from palier.catalog.services import approvals as approval_engine
from palier.changes import services as change_services
from palier.changes.models import Change, ChangeApprovalStage, ChangeComment, ChangeEvent, ChangeTemplate
from palier.changes.services import boards
from palier.core import outbox
from palier.core.models import OutboxItem
from palier.lib.errors import PermissionDenied
from palier.notifications.models import Notification, OutgoingEmail
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.problems import services as problem_services
from palier.problems.models import Problem, ProblemComment
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
CS = Change.Status
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def run_outbox() -> int:
    """Run every pending subject-event item once (as the worker would after commit)."""
    ids = list(
        OutboxItem.objects.filter(kind=subject_engine.OUTBOX_KIND, state=OutboxItem.State.PENDING).values_list(
            "pk", flat=True
        )
    )
    for pk in ids:
        outbox.run(pk)
    return len(ids)


def replay_all() -> None:
    """Run every subject-event item's handler again, done or not (a replay after a crash)."""
    for item in OutboxItem.objects.filter(kind=subject_engine.OUTBOX_KIND):
        subject_engine.handle(item.payload)


@pytest.fixture
def subject_rule(admin_user: User) -> Callable[..., Rule]:
    from palier.automation import services

    def build(subject: str, trigger: str, actions: list[dict[str, Any]], **fields: Any) -> Rule:
        conditions = fields.pop("conditions", None)
        if isinstance(conditions, list):
            conditions = {"all": conditions, "any": []}
        return services.create_rule(
            by=admin_user, name=fields.pop("name", f"{subject} rule"), subject=subject, trigger=trigger,
            actions=actions, conditions=conditions or {}, **fields,
        )  # fmt: skip

    return build


def _incidents(requester: User, n: int) -> list[Ticket]:
    return [make_ticket(requester, subject=f"VPN drops {i}", kind="incident") for i in range(n)]


# --- matching, per subject (no database) ---------------------------------------------------------------

PROBLEM = subjects.RecordFacts(
    status="investigating", now=NOW, group_id=3, assignee_id=None, title="passerelle vpn", category_ids=frozenset({1, 7}),
    priority=2, has_workaround=True, incidents=10, incidents_before=9,
    assets=AssetFacts(types=frozenset({"server"}), services=frozenset({"vpn", "acces distant"})),
)  # fmt: skip
CHANGE = subjects.RecordFacts(
    status="approved", now=NOW, group_id=4, assignee_id=12, title="upgrade core switch", kind="standard",
    risk="high", decision="approved", planned_start=NOW + timedelta(hours=5), planned_end=NOW + timedelta(hours=7),
    assets=AssetFacts(types=frozenset({"switch"})),
)  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "facts", "row", "expected"),
    [
        ("problem", PROBLEM, {"field": "status", "op": "is", "value": "investigating"}, True),
        ("problem", PROBLEM, {"field": "status", "op": "is_not", "value": "investigating"}, False),
        ("problem", PROBLEM, {"field": "priority", "op": "lte", "value": 2}, True),
        ("problem", PROBLEM, {"field": "priority", "op": "gte", "value": 3}, False),
        ("problem", PROBLEM, {"field": "category", "op": "under", "value": 1}, True),
        ("problem", PROBLEM, {"field": "group", "op": "is", "value": 3}, True),
        ("problem", PROBLEM, {"field": "assignee", "op": "unset"}, True),
        ("problem", PROBLEM, {"field": "workaround", "op": "set"}, True),
        ("problem", PROBLEM, {"field": "incidents", "op": "gte", "value": 10}, True),
        ("problem", PROBLEM, {"field": "incidents", "op": "reaches", "value": 10}, True),
        ("problem", PROBLEM, {"field": "incidents", "op": "reaches", "value": 9}, False),  # already there before
        ("problem", PROBLEM, {"field": "business_service", "op": "has", "value": "Accès distant"}, True),
        ("problem", PROBLEM, {"field": "asset_type", "op": "lacks", "value": "server"}, False),
        ("problem", PROBLEM, {"field": "title", "op": "contains", "value": "VPN"}, True),
        ("change", CHANGE, {"field": "kind", "op": "is", "value": "standard"}, True),
        ("change", CHANGE, {"field": "status", "op": "is", "value": "approved"}, True),
        ("change", CHANGE, {"field": "risk", "op": "gte", "value": "medium"}, True),
        ("change", CHANGE, {"field": "risk", "op": "lte", "value": "medium"}, False),
        ("change", CHANGE, {"field": "outcome", "op": "unset"}, True),
        ("change", CHANGE, {"field": "decision", "op": "is", "value": "approved"}, True),
        ("change", CHANGE, {"field": "assignee", "op": "is", "value": 12}, True),
        ("change", CHANGE, {"field": "group", "op": "is_not", "value": 4}, False),
        ("change", CHANGE, {"field": "hours_to_start", "op": "lte", "value": 6}, True),
        ("change", CHANGE, {"field": "hours_to_end", "op": "lte", "value": 6}, False),
        ("change", CHANGE, {"field": "planned_start", "op": "set"}, True),
        ("change", CHANGE, {"field": "asset_type", "op": "has", "value": "switch"}, True),
    ],
)
def test_conditions_per_subject(subject: str, facts: subjects.RecordFacts, row: dict[str, Any], expected: bool) -> None:
    cleaned = subjects.clean_conditions(subject, {"all": [row]})
    assert subjects.compile_conditions(cleaned)(facts) is expected


# --- bad input: a clear message, nothing saved ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "change", "trigger": "change_created", "actions": [{"type": "add_tags", "value": "x"}]},
         "does not apply to changes"),
        ({"subject": "change", "trigger": "change_created", "actions": [{"type": "approve"}]},
         "Approvals are people's decisions"),
        ({"subject": "change", "trigger": "change_status", "to_status": "awaiting_approval",
          "actions": [{"type": "set_status", "value": "approved"}]}, "Approvals are people's decisions"),
        ({"subject": "change", "trigger": "change_created", "conditions": {"all": [{"field": "channel", "op": "is", "value": "email"}]},
          "actions": [{"type": "note", "text": "x"}]}, "is a field of tickets, not of changes"),
        ({"subject": "problem", "trigger": "problem_created", "conditions": {"all": [{"field": "risk", "op": "is", "value": "high"}]},
          "actions": [{"type": "note", "text": "x"}]}, "is a field of changes, not of problems"),
        ({"subject": "problem", "trigger": "problem_status", "to_status": "approved",
          "actions": [{"type": "note", "text": "x"}]}, "have no status"),
        ({"subject": "change", "trigger": "change_created", "conditions": {"all": [{"field": "status", "op": "is", "value": "known_error"}]},
          "actions": [{"type": "note", "text": "x"}]}, "Choose a value from the list"),
        ({"subject": "problem", "trigger": "change_created", "actions": [{"type": "note", "text": "x"}]},
         "is not a trigger of problems"),
        ({"subject": "ticket", "trigger": "created", "actions": [{"type": "notify", "to": "owner", "text": "x"}]},
         "does not apply to tickets"),
        ({"subject": "problem", "trigger": "problem_created", "actions": [{"type": "set_status", "value": "resolved"}]},
         "does not apply to problems"),
        ({"subject": "problem", "trigger": "problem_created", "actions": [{"type": "note", "text": "{subject}"}]},
         "Unknown placeholder"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_with_a_reason(
    subject_rule: Callable[..., Rule], fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        subject_rule(fields.pop("subject"), fields.pop("trigger"), fields.pop("actions"), **fields)
    assert message in " ".join(error.value.messages)
    assert not Rule.objects.exists()


def test_an_agent_may_not_write_rules(agent: User) -> None:
    from palier.automation import services

    with pytest.raises(PermissionDenied):
        services.create_rule(
            by=agent, name="x", subject="problem", trigger="problem_created", actions=[{"type": "note", "text": "x"}]
        )
    assert not Rule.objects.exists()


# --- running: problems -------------------------------------------------------------------------------


def test_a_problem_reaching_n_incidents_notifies_a_group_once(
    agent: User, requester: User, l2: SupportGroup, agent_l2: User, subject_rule: Callable[..., Rule]
) -> None:
    agent_l2.language = "en"
    agent_l2.save(update_fields=["language"])
    french = people.create_user(
        email="lea.martin@desk.test", full_name="Léa", role=User.Role.AGENT, password="pw-x-123456!"
    )
    people.add_group_member(l2, user=french)
    subject_rule(
        "problem", "problem_incidents", name="Many incidents",
        conditions=[{"field": "incidents", "op": "reaches", "value": 3}],
        actions=[{"type": "notify", "to": "group", "value": l2.pk, "text": "{reference} has many incidents"}],
    )  # fmt: skip
    problem = problem_services.create_problem(by=agent, title="VPN gateway")
    first, second, third, fourth = _incidents(requester, 4)
    problem_services.link_incidents(problem, [first.pk, second.pk], by=agent)
    run_outbox()
    assert not Notification.objects.filter(kind=Notification.Kind.RULE).exists()
    problem_services.link_incidents(problem, [third.pk], by=agent)  # 2 → 3: reaches 3
    run_outbox()
    problem_services.link_incidents(problem, [fourth.pk], by=agent)  # 3 → 4: already past
    run_outbox()
    replay_all()
    notes = Notification.objects.filter(kind=Notification.Kind.RULE)
    assert sorted(n.recipient_id for n in notes) == sorted([agent_l2.pk, french.pk])
    assert notes[0].data["message"] == f"{problem.reference} has many incidents"
    mails = {m.address: m.subject for m in OutgoingEmail.objects.filter(address__in=[agent_l2.email, french.email])}
    assert mails[agent_l2.email] == f"{problem.reference}: Many incidents"
    assert problem.reference in mails[french.email]  # her copy, rendered in her language (French)
    runs = SubjectRun.objects.filter(subject="problem")
    assert [(r.outcome, r.problem_id) for r in runs] == [("applied", problem.pk)]


def test_problem_actions_go_through_the_problem_services(
    agent: User, l2: SupportGroup, agent_l2: User, subject_rule: Callable[..., Rule]
) -> None:
    subject_rule(
        "problem", "problem_created",
        conditions=[{"field": "title", "op": "contains", "value": "vpn"}],
        actions=[
            {"type": "set_group", "value": l2.pk},
            {"type": "set_assignee", "value": agent_l2.pk},
            {"type": "set_priority", "value": 1},
            {"type": "note", "text": "Picked up by {group} for {assignee} ({priority})"},
        ],
    )  # fmt: skip
    problem = problem_services.create_problem(by=agent, title="VPN gateway drops")
    other = problem_services.create_problem(by=agent, title="Printer")
    run_outbox()
    problem.refresh_from_db()
    assert (problem.group_id, problem.assignee_id, problem.priority) == (l2.pk, agent_l2.pk, 1)
    comment = ProblemComment.objects.get(problem=problem)
    assert comment.internal and comment.author == robot()
    assert comment.body == f"Picked up by {l2.name} for {agent_l2.display_name} (P1)"
    assert problem.events.filter(kind="changed", actor=robot()).exists()  # the history names the automation
    other.refresh_from_db()
    assert other.group_id is None and not ProblemComment.objects.filter(problem=other).exists()


def test_known_error_and_resolved_triggers(agent: User, manager: User, subject_rule: Callable[..., Rule]) -> None:
    subject_rule("problem", "problem_known_error", actions=[{"type": "note", "text": "KE {reference}"}])
    subject_rule("problem", "problem_status", to_status="investigating", actions=[{"type": "note", "text": "INV"}])
    problem = problem_services.create_problem(by=agent, title="VPN", root_cause="Firmware", workaround="Reconnect")
    problem = problem_services.transition_problem(problem, to="investigating", by=agent)
    problem = problem_services.transition_problem(problem, to="known_error", by=agent)
    run_outbox()
    assert sorted(ProblemComment.objects.values_list("body", flat=True)) == ["INV", f"KE {problem.reference}"]


def test_a_problem_webhook_is_signed_and_sent_once(agent: User, subject_rule: Callable[..., Rule]) -> None:
    with http_recorder() as receiver:
        rule = subject_rule("problem", "problem_created", actions=[{"type": "webhook", "url": receiver.url}])
        problem = problem_services.create_problem(by=agent, title="VPN")
        run_outbox()
        replay_all()
        for item in OutboxItem.objects.filter(kind="automation.webhook"):
            outbox.run(item.pk)
        assert len(receiver.received) == 1
        got = receiver.received[0]
        expected = "sha256=" + hmac.new(rule.secret.encode(), got.body, hashlib.sha256).hexdigest()
        assert got.headers["X-Palier-Signature"] == expected
        body = json.loads(got.body)
        assert body["problem"]["reference"] == problem.reference and body["trigger"] == "problem_created"


# --- running: changes --------------------------------------------------------------------------------


def _board(admin: User) -> tuple[SupportGroup, User]:
    group = people.create_group(name="CAB", level=2)
    ana = people.create_user(email="ana@desk.test", full_name="Ana", role=User.Role.AGENT, password="pw-x-123456!")
    people.add_group_member(group, user=ana)
    board = boards.save_board(by=admin, name="CAB", group=group, rule="any")
    ChangeApprovalStage.objects.create(path="normal", board=board, order=1)
    return group, ana


def _ready(by: User, *, kind: str = "normal", **extra: Any) -> Change:
    start = timezone.now() + timedelta(days=3)
    return change_services.create_change(
        by=by, kind=kind, title="Upgrade the core switch", planned_start=start, planned_end=start + timedelta(hours=2),
        implementation_plan="Upgrade", backout_plan="Downgrade", **extra,
    )  # fmt: skip


def test_an_approved_change_is_scheduled_by_a_rule(
    agent: User, admin_user: User, subject_rule: Callable[..., Rule]
) -> None:
    _group, ana = _board(admin_user)
    subject_rule(
        "change", "change_status", to_status="approved", actions=[{"type": "set_status", "value": "scheduled"}]
    )
    decided = subject_rule(
        "change", "change_approval", conditions=[{"field": "decision", "op": "is", "value": "approved"}],
        actions=[{"type": "note", "text": "Approved: {reference}"}],
    )  # fmt: skip
    change = _ready(agent)
    change = change_services.transition_change(change, to=CS.ASSESSMENT, by=agent)
    change = change_services.transition_change(change, to=CS.AWAITING_APPROVAL, by=agent)
    run_outbox()
    assert Change.objects.get(pk=change.pk).status == CS.AWAITING_APPROVAL  # asking is no decision
    approval_engine.decide(approval=Approval.objects.get(approver=ana, decision="pending"), decision="approved", by=ana)
    run_outbox()
    change.refresh_from_db()
    assert change.status == CS.SCHEDULED
    moved = ChangeEvent.objects.get(change=change, kind="status", data__status=[CS.APPROVED, CS.SCHEDULED])
    assert moved.actor == robot()
    assert ChangeComment.objects.get(change=change).body == f"Approved: {change.reference}"
    assert SubjectRun.objects.filter(rule=decided, outcome="applied").count() == 1


def test_a_standard_change_is_scheduled_when_raised(agent: User, subject_rule: Callable[..., Rule]) -> None:
    subject_rule(
        "change", "change_created", conditions=[{"field": "kind", "op": "is", "value": "standard"}],
        actions=[{"type": "set_status", "value": "scheduled"}],
    )  # fmt: skip
    template = ChangeTemplate.objects.create(name_fr="Redémarrer", name_en="Restart", implementation_plan="Rolling")
    standard = change_services.create_change(
        by=agent, kind="standard", template=template, planned_start=timezone.now() + timedelta(days=1)
    )
    normal = _ready(agent)
    run_outbox()
    assert Change.objects.get(pk=standard.pk).status == CS.SCHEDULED
    assert Change.objects.get(pk=normal.pk).status == CS.DRAFT


def test_a_move_the_lifecycle_refuses_is_logged_as_failed(agent: User, subject_rule: Callable[..., Rule]) -> None:
    rule = subject_rule("change", "change_created", actions=[{"type": "note", "text": "hi"},
                                                              {"type": "set_status", "value": "implementing"}])  # fmt: skip
    change = _ready(agent)
    run_outbox()
    change.refresh_from_db()
    assert change.status == CS.DRAFT
    assert not ChangeComment.objects.filter(change=change).exists()  # the rule's changes are undone together
    run = SubjectRun.objects.get(rule=rule)
    assert run.outcome == "failed" and "cannot go from" in run.detail


def test_change_actions_assign_comment_and_notify_the_implementer(
    agent: User, l2: SupportGroup, agent_l2: User, subject_rule: Callable[..., Rule]
) -> None:
    subject_rule(
        "change", "change_created",
        conditions=[{"field": "kind", "op": "is", "value": "normal"}],
        actions=[
            {"type": "set_group", "value": l2.pk},
            {"type": "set_assignee", "value": agent_l2.pk},
            {"type": "notify", "to": "owner", "text": "You implement {reference}"},
        ],
    )  # fmt: skip
    change = _ready(agent)
    run_outbox()
    change.refresh_from_db()
    assert (change.group_id, change.implementer_id) == (l2.pk, agent_l2.pk)
    note = Notification.objects.get(kind=Notification.Kind.RULE)
    assert note.recipient_id == agent_l2.pk and note.data["url"] == f"/agent/changes/{change.pk}/"


# --- exactly once, failures, loops ---------------------------------------------------------------------


def test_no_rule_no_outbox_item(agent: User, subject_rule: Callable[..., Rule]) -> None:
    subject_rule("change", "change_created", actions=[{"type": "note", "text": "x"}])
    problem_services.create_problem(by=agent, title="VPN")
    assert not OutboxItem.objects.filter(kind=subject_engine.OUTBOX_KIND).exists()


def test_replaying_the_outbox_item_runs_each_rule_once(agent: User, subject_rule: Callable[..., Rule]) -> None:
    subject_rule("problem", "problem_created", actions=[{"type": "note", "text": "one"}])
    problem_services.create_problem(by=agent, title="VPN")
    item = OutboxItem.objects.get(kind=subject_engine.OUTBOX_KIND)
    subject_engine.handle(item.payload)
    subject_engine.handle(item.payload)
    outbox.run(item.pk)
    assert ProblemComment.objects.count() == 1 and SubjectRun.objects.count() == 1


def test_a_failing_rule_never_fails_the_person_and_turns_off_when_broken(
    agent: User, l2: SupportGroup, subject_rule: Callable[..., Rule]
) -> None:
    rule = subject_rule("problem", "problem_created", actions=[{"type": "set_group", "value": l2.pk}])
    SupportGroup.objects.filter(pk=l2.pk).delete()
    problem = problem_services.create_problem(by=agent, title="VPN")  # the person's action succeeds
    run_outbox()
    assert Problem.objects.get(pk=problem.pk).group_id is None
    rule.refresh_from_db()
    assert not rule.is_active and "no longer exists" in rule.disabled_reason
    assert SubjectRun.objects.get().outcome == "failed"


def test_a_rule_never_reacts_to_its_own_run(agent: User, subject_rule: Callable[..., Rule]) -> None:
    # on any status change, send the change back to draft: its own move is a status change too
    back = subject_rule("change", "change_status", actions=[{"type": "set_status", "value": "draft"}])
    change = _ready(agent)
    change_services.transition_change(change, to=CS.ASSESSMENT, by=agent)
    for _round in range(8):
        if not run_outbox():
            break
    runs = list(SubjectRun.objects.filter(rule=back).order_by("id").values_list("outcome", "detail"))
    assert runs == [("applied", "status=draft"), ("skipped", "the event came from this rule's own run")]
    assert Change.objects.get(pk=change.pk).status == CS.DRAFT


def test_a_chain_of_rules_stops_at_the_depth_cap(agent: User, subject_rule: Callable[..., Rule]) -> None:
    # A moves draft → assessment, B moves assessment → draft: each fires the other
    subject_rule(
        "change", "change_status", name="A", to_status="draft", actions=[{"type": "set_status", "value": "assessment"}]
    )
    subject_rule(
        "change", "change_status", name="B", to_status="assessment", actions=[{"type": "set_status", "value": "draft"}]
    )
    change = _ready(agent)
    change_services.transition_change(change, to=CS.ASSESSMENT, by=agent)
    for _round in range(20):
        if not run_outbox():
            break
    assert not OutboxItem.objects.filter(kind=subject_engine.OUTBOX_KIND, state="pending").exists()
    runs = SubjectRun.objects.order_by("id")
    assert runs.filter(outcome="applied").count() == subject_engine.MAX_DEPTH
    assert runs.last().outcome == "skipped" and "deeper than" in runs.last().detail  # type: ignore[union-attr]


# --- time-based: a change starting within N hours ------------------------------------------------------


def test_a_change_starting_soon_runs_its_rule_once(
    agent: User, admin_user: User, client: Any, subject_rule: Callable[..., Rule]
) -> None:
    rule = subject_rule(
        "change", "change_start_soon", wait_hours=24,
        conditions=[{"field": "status", "op": "is", "value": "scheduled"}],
        actions=[{"type": "note", "text": "{reference} starts soon"}],
    )  # fmt: skip
    template = ChangeTemplate.objects.create(name_fr="Redémarrer", name_en="Restart", implementation_plan="Rolling")
    soon, later, draft = (
        change_services.create_change(
            by=agent, kind="standard", template=template, planned_start=timezone.now() + delay
        )
        for delay in (timedelta(hours=5), timedelta(hours=48), timedelta(hours=6))
    )
    for change in (soon, later):
        change_services.transition_change(change, to=CS.SCHEDULED, by=agent)
    client.force_login(admin_user)
    page = client.get(f"/agent/automation/rules/{rule.pk}/dry-run/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert soon.reference in page and later.reference not in page and draft.reference not in page
    assert subject_engine.run_start_soon() == 1
    assert subject_engine.run_start_soon() == 0  # once per change and planned start
    assert list(ChangeComment.objects.values_list("change_id", "body")) == [(soon.pk, f"{soon.reference} starts soon")]
    assert SubjectRun.objects.get(rule=rule).change_id == soon.pk


def test_a_start_soon_rule_needs_its_hours(subject_rule: Callable[..., Rule]) -> None:
    with pytest.raises(ValidationError, match="between 1 and"):
        subject_rule("change", "change_start_soon", actions=[{"type": "note", "text": "x"}])
    assert not Rule.objects.exists()


def test_requesters_are_never_told_about_internal_records(
    agent: User, requester: User, l2: SupportGroup, agent_l2: User, subject_rule: Callable[..., Rule]
) -> None:
    subject_rule("problem", "problem_created", actions=[
        {"type": "notify", "to": "group", "value": l2.pk, "text": "New: {title}"},
        {"type": "notify", "to": "user", "value": requester.pk, "text": "New: {title}"},
    ])  # fmt: skip
    problem_services.create_problem(by=agent, title="Payroll database corrupted")
    run_outbox()
    assert list(Notification.objects.filter(kind=Notification.Kind.RULE).values_list("recipient_id", flat=True)) == [
        agent_l2.pk
    ]
    assert not OutgoingEmail.objects.filter(address=requester.email).exists()
