"""Approvals: stages open one after the other; each asks its approvers (by email, with signed
links, in the application, and on the "My approvals" page); a rejection closes the request, the
last approval starts its fulfilment. Every decision records an "approval" event on the request.

One engine for every approval of Palier: a step belongs to a catalog request (``submission``) or
to another *subject* (a change, say), named by ``subject_kind`` / ``subject_id``. A subject kind is
served by an adapter (``SUBJECTS``, filled by ``palier.events.wire()`` from ``APPROVAL_SUBJECTS``):
the adapter locks the subject, says whether it still waits, writes its history, asks and reminds
the approvers, and is told when all stages approved or one rejected. The catalog never imports
the apps above it.

A stage's rule: *any* (the first decision closes it), *all* (every approval; the first rejection
rejects), *quorum* (approved once ``quorum`` approvals are in, rejected as soon as the quorum can
no longer be reached). While a person is away (``ApprovalDelegation``), what is newly asked of
them goes to their deputy, one step only (a deputy who is away too is not followed further)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.catalog import links, permissions
from palier.catalog.models import Approval, ApprovalDelegation, ApprovalStage, ApprovalStep, Submission
from palier.lib.errors import Conflict, PermissionDenied
from palier.notifications import services as notifications
from palier.notifications.models import Notification, NotificationPreference
from palier.people.models import User
from palier.tickets import history
from palier.tickets import services as tickets
from palier.tickets.models import Ticket, TicketEvent

D = Approval.Decision
E = TicketEvent.Kind
MAX_COMMENT = 2000


class AlreadyDecided(Conflict):
    pass


@dataclass(frozen=True)
class SubjectView:
    """How an approval's subject shows on "My approvals" and the email link page."""

    reference: str
    title: str
    url: str
    requester: str = ""
    rows: list[tuple[str, str]] = field(default_factory=list)


class Subject(Protocol):
    """What the engine asks of the app owning a subject kind (see the module's docstring)."""

    def lock(self, subject_id: int) -> Any: ...
    def is_waiting(self, subject: Any) -> bool: ...
    def requester(self, subject: Any) -> User | None: ...
    def record(self, subject: Any, *, by: User | None, data: dict[str, Any]) -> None: ...
    def approved(self, subject: Any) -> None: ...
    def rejected(self, subject: Any, approval: Approval) -> None: ...
    def ask(self, approvals: list[Approval], subject: Any, *, reminder: bool = False) -> None: ...
    def remind_after_hours(self) -> int: ...
    def load(self, subject_ids: list[int]) -> dict[int, Any]: ...
    def describe(self, subjects: list[Any]) -> dict[int, SubjectView]: ...


# subject kind -> adapter; set by ``palier.events.wire()``
SUBJECTS: dict[str, Subject] = {}


def adapter(kind: str) -> Subject:
    try:
        return SUBJECTS[kind]
    except KeyError:
        raise ValidationError(_("Unknown approval subject.")) from None


@dataclass(frozen=True)
class StepSpec:
    """One stage of a subject's approval: the members of ``group_id`` decide by ``rule``."""

    group_id: int
    rule: str
    quorum: int | None = None
    label: str = ""
    with_previous: bool = False  # runs at the same time as the step before it


def _with_deputies(people: list[User]) -> list[tuple[User, User | None]]:
    """(approver, on behalf of) for each person: the deputy of someone away today, followed one
    step only; a person asked twice (a deputy who is also asked) is asked once."""
    today = timezone.localdate()
    deputies: dict[int, User] = {}
    for row in (
        ApprovalDelegation.objects.filter(
            user_id__in=[p.pk for p in people], starts_on__lte=today, ends_on__gte=today, deputy__is_active=True
        )
        .select_related("deputy")
        .order_by("id")
    ):
        deputies.setdefault(row.user_id, row.deputy)
    out: list[tuple[User, User | None]] = []
    seen: set[int] = set()
    for person in people:
        deputy = deputies.get(person.pk)
        pair = (deputy, person) if deputy is not None else (person, None)
        if pair[0].pk not in seen:
            seen.add(pair[0].pk)
            out.append(pair)
    return out


# who else hears of new approvals, in the asking transaction (``APPROVAL_ASKED`` in palier/events.py)
ON_ASKED: list[Callable[[list[Approval]], None]] = []


def _create_approvals(step: ApprovalStep, people: list[User]) -> list[Approval]:
    approvals = [
        Approval.objects.create(step=step, approver=approver, on_behalf_of=absent)
        for approver, absent in _with_deputies(people)
    ]
    for hook in ON_ASKED:
        hook(approvals)
    return approvals


def _step_outcome(step: ApprovalStep, decision: str) -> str | None:
    """The step's state after ``decision`` (already saved): approved, rejected, or None (open)."""
    if step.rule != ApprovalStage.Rule.QUORUM:
        if decision == D.REJECTED:
            return ApprovalStep.State.REJECTED
        if step.rule == ApprovalStage.Rule.ANY or not step.approvals.filter(decision=D.PENDING).exists():
            return ApprovalStep.State.APPROVED
        return None
    decisions = list(step.approvals.values_list("decision", flat=True))
    approved, pending = decisions.count(D.APPROVED), decisions.count(D.PENDING)
    need = max(1, min(step.quorum or 1, len(decisions)))
    if approved >= need:
        return ApprovalStep.State.APPROVED
    if approved + pending < need:
        return ApprovalStep.State.REJECTED
    return None


def _approvers(step: ApprovalStep, requester: User | None) -> list[User]:
    if step.kind == ApprovalStage.Kind.MANAGER:
        manager = requester.manager if requester is not None else None
        return [manager] if manager is not None and manager.is_active else []
    if step.kind == ApprovalStage.Kind.PEOPLE:
        return list(User.objects.filter(pk__in=step.people_ids, is_active=True).order_by("id"))
    if step.group_id is None:
        return []
    return list(User.objects.filter(membership__group_id=step.group_id, is_active=True).order_by("id"))


def next_group(waiting: list[ApprovalStep]) -> list[ApprovalStep]:
    """The steps that open together: the first waiting step and those right after it marked
    ``with_previous`` (``waiting`` in order)."""
    group = waiting[:1]
    for step in waiting[1:]:
        if not step.with_previous:
            break
        group.append(step)
    return group


def open_next_step(submission: Submission) -> None:
    """Open the next group of waiting steps (one step, or several running at the same time),
    skipping steps nobody can approve; after the last one, move the request on to fulfilment.
    Called inside the caller's transaction."""
    from palier.catalog.services import fulfilment

    ticket = submission.ticket
    waiting = list(submission.steps.filter(state=ApprovalStep.State.WAITING).order_by("order"))
    while waiting:
        group = next_group(waiting)
        waiting = waiting[len(group) :]
        opened = False
        for step in group:
            people = _approvers(step, ticket.requester)
            if not people:
                step.state = ApprovalStep.State.SKIPPED
                step.save(update_fields=["state"])
                history.record(
                    ticket,
                    E.APPROVAL,
                    by=None,
                    internal=True,
                    stage=step.order,
                    decision="skipped",
                    reason="no-approver",
                )
                continue
            step.state = ApprovalStep.State.OPEN
            step.save(update_fields=["state"])
            approvals = _create_approvals(step, people)
            ask_approvers(approvals, submission=submission)
            # the requester sees them in the request's approval steps; a deputy is named as asked
            names = [a.approver.display_name for a in approvals]
            history.record(
                ticket, E.APPROVAL, by=None, internal=True, stage=step.order, decision="asked", approvers=names
            )
            opened = True
        if opened:
            return
    target = Ticket.Status.ASSIGNED if ticket.assignee_id else Ticket.Status.NEW
    tickets.transition_ticket(ticket, to=target, by=None)
    fulfilment.start_fulfilment(submission)


def ask_approvers(approvals: list[Approval], *, submission: Submission, reminder: bool = False) -> None:
    """Tell each approver their approval is requested: an email with signed links and an in-app
    notification pointing to "My approvals", each as their preferences allow. Both are stored
    under the key ``catalog-approval-<id>``, so calling this again (a retried job) adds nothing.
    A ``reminder`` is an email only, under ``catalog-approval-reminder-<id>``."""
    ticket = submission.ticket
    in_app, by_mail = notifications.channels_for(
        [a.approver for a in approvals], event=NotificationPreference.Event.APPROVAL
    )
    in_app_ids, mail_ids = {u.pk for u in in_app}, {u.pk for u in by_mail}
    item = submission.item
    for approval in approvals:
        key = _key(approval.pk)
        if approval.approver_id in in_app_ids and not reminder:
            notifications.notify(
                [approval.approver],
                kind=Notification.Kind.APPROVAL,
                ticket=ticket,
                key=key,
                reference=ticket.reference,
                item_fr=item.name_fr,
                item_en=item.name_en,
            )
        if approval.approver_id in mail_ids:
            _email(approval, ticket, submission, reminder=reminder)


def _key(approval_id: int) -> str:
    return f"catalog-approval-{approval_id}"


def notification_key(approval_id: int) -> str:
    """The key of the in-app "approval requested" notification of an approval (any subject): the
    engine marks it read once the approval is decided or no longer needed."""
    return _key(approval_id)


def _email(approval: Approval, ticket: Ticket, submission: Submission, *, reminder: bool = False) -> None:
    from palier.notifications.email import base_url, queue_templated

    def link(decision: str) -> str:
        token = links.make_token(approval_id=approval.pk, decision=decision)
        return base_url() + reverse("catalog:link", args=[token])

    context = {
        "requester": ticket.requester.display_name,
        "item_fr": submission.item.name_fr,
        "item_en": submission.item.name_en,
        "answers": submission.answers,
        "approve_url": link("approved"),
        "reject_url": link("rejected"),
        "approvals_url": base_url() + reverse("catalog:approvals"),
        "ticket_url": base_url() + reverse("catalog:approvals"),
        "days": links.LINK_DAYS,
        "reminder": reminder,
        "on_behalf_of": approval.on_behalf_of.display_name if approval.on_behalf_of else "",
    }
    queue_templated(
        to=[approval.approver],
        template="catalog/email/approval_request",
        context=context,
        ticket=ticket,
        key=f"catalog-approval-reminder-{approval.pk}" if reminder else _key(approval.pk),
    )


@transaction.atomic
def decide(*, approval: Approval, decision: str, comment: str = "", by: User | None, via: str = "portal") -> Approval:
    """Record ``approval``'s decision, once. ``by`` is the signed-in approver, or None when the
    decision comes from a signed email link (the link stands for the approver)."""
    if decision not in (D.APPROVED, D.REJECTED):
        raise ValidationError({"decision": _("Approve or reject.")})
    comment = (comment or "").strip()
    if decision == D.REJECTED and not comment:
        raise ValidationError({"comment": _("Say why you reject the request: the requester reads it.")})
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": _("At most %(n)d characters.") % {"n": MAX_COMMENT}})
    # the request first, then the approval (re-read under that lock): two approvers of one stage
    # deciding at the same time are serialised and the second sees the first one's outcome
    submission_id, kind, subject_id = (
        ApprovalStep.objects.filter(pk=approval.step_id)
        .values_list("submission_id", "subject_kind", "subject_id")
        .get()
    )
    if submission_id is None:
        return _decide_subject(approval, kind, subject_id, decision=decision, comment=comment, by=by, via=via)
    submission = Submission.objects.select_for_update().select_related("ticket").get(pk=submission_id)
    locked = (
        Approval.objects.select_for_update(of=("self",))
        .select_related("step", "approver", "on_behalf_of")
        .get(pk=approval.pk)
    )
    if locked.decision != D.PENDING or submission.state != Submission.State.APPROVAL:
        raise AlreadyDecided(_("This approval was already decided."))
    if by is not None and not permissions.can_decide(by, locked):
        raise PermissionDenied(_("You are not asked to approve this request."))
    locked.decision, locked.comment, locked.via, locked.decided_at = decision, comment, via, timezone.now()
    locked.save(update_fields=["decision", "comment", "via", "decided_at"])
    notifications.mark_read_by_key([_key(locked.pk)])  # the approver's "approval requested" row
    step, ticket = locked.step, submission.ticket
    data = _decided_data(step, locked)  # with ``on_behalf_of`` when a deputy decides
    history.record(ticket, E.APPROVAL, by=locked.approver, **data)
    outcome = _step_outcome(step, decision)
    if outcome == ApprovalStep.State.REJECTED:
        _reject(submission, step, locked)
    elif outcome == ApprovalStep.State.APPROVED:
        _close_step(step, ApprovalStep.State.APPROVED)
        if not submission.steps.filter(state=ApprovalStep.State.OPEN).exists():  # its parallel group is done
            open_next_step(submission)
    return locked


def _decided_data(step: ApprovalStep, approval: Approval) -> dict[str, Any]:
    data: dict[str, Any] = {
        "stage": step.label or step.order,
        "decision": approval.decision,
        "approver": approval.approver.display_name,
        "comment": approval.comment,
        "via": approval.via,
    }
    if approval.on_behalf_of is not None:
        data["on_behalf_of"] = approval.on_behalf_of.display_name
    return data


def _decide_subject(
    approval: Approval, kind: str, subject_id: int, *, decision: str, comment: str, by: User | None, via: str
) -> Approval:
    """``decide`` for a step of another subject: the adapter locks the subject first."""
    subject_adapter = adapter(kind)
    subject = subject_adapter.lock(subject_id)
    locked = (
        Approval.objects.select_for_update(of=("self",))
        .select_related("step", "approver", "on_behalf_of")
        .get(pk=approval.pk)
    )
    step = locked.step
    if locked.decision != D.PENDING or step.state != ApprovalStep.State.OPEN or not subject_adapter.is_waiting(subject):
        raise AlreadyDecided(_("This approval was already decided."))
    if by is not None and not permissions.can_decide(by, locked):
        raise PermissionDenied(_("You are not asked to approve this request."))
    locked.decision, locked.comment, locked.via, locked.decided_at = decision, comment, via, timezone.now()
    locked.save(update_fields=["decision", "comment", "via", "decided_at"])
    notifications.mark_read_by_key([_key(locked.pk)])
    subject_adapter.record(subject, by=locked.approver, data=_decided_data(step, locked))
    outcome = _step_outcome(step, decision)
    if outcome == ApprovalStep.State.REJECTED:
        _close_step(step, ApprovalStep.State.REJECTED)
        for other in _subject_steps(kind, subject_id).filter(state=ApprovalStep.State.OPEN):
            _close_step(other, ApprovalStep.State.SKIPPED)  # a stage running at the same time
        _subject_steps(kind, subject_id).filter(state=ApprovalStep.State.WAITING).update(
            state=ApprovalStep.State.SKIPPED
        )
        subject_adapter.rejected(subject, locked)
    elif outcome == ApprovalStep.State.APPROVED:
        _close_step(step, ApprovalStep.State.APPROVED)
        if not _subject_steps(kind, subject_id).filter(state=ApprovalStep.State.OPEN).exists():
            open_next_subject_step(kind, subject)
    return locked


def _subject_steps(kind: str, subject_id: int) -> QuerySet[ApprovalStep]:
    return ApprovalStep.objects.filter(subject_kind=kind, subject_id=subject_id, submission__isnull=True)


def start_subject(kind: str, subject: Any, steps: list[StepSpec]) -> list[ApprovalStep]:
    """Ask for ``subject``'s approval by ``steps`` in order (in the caller's transaction, the
    subject locked). An earlier round still open is withdrawn first."""
    withdraw_subject(kind, subject.pk)
    if not steps:
        raise ValidationError(_("No approval stage applies."))
    last = _subject_steps(kind, subject.pk).order_by("-order").values_list("order", flat=True).first() or 0
    created = ApprovalStep.objects.bulk_create(
        ApprovalStep(
            subject_kind=kind,
            subject_id=subject.pk,
            order=last + n,
            kind=ApprovalStage.Kind.GROUP,
            group_id=spec.group_id,
            rule=spec.rule,
            quorum=spec.quorum,
            label=spec.label,
            with_previous=spec.with_previous,
        )
        for n, spec in enumerate(steps, start=1)
    )
    open_next_subject_step(kind, subject)
    return created


def open_next_subject_step(kind: str, subject: Any) -> None:
    """Open the subject's next group of waiting steps (skipping one nobody can approve); after
    the last one, tell the adapter the subject is approved."""
    subject_adapter = adapter(kind)
    waiting = list(_subject_steps(kind, subject.pk).filter(state=ApprovalStep.State.WAITING).order_by("order"))
    while waiting:
        group = next_group(waiting)
        waiting = waiting[len(group) :]
        opened = False
        for step in group:
            people = _approvers(step, subject_adapter.requester(subject))
            stage = step.label or step.order
            if not people:
                step.state = ApprovalStep.State.SKIPPED
                step.save(update_fields=["state"])
                subject_adapter.record(
                    subject, by=None, data={"stage": stage, "decision": "skipped", "reason": "no-approver"}
                )
                continue
            step.state = ApprovalStep.State.OPEN
            step.save(update_fields=["state"])
            approvals = _create_approvals(step, people)
            subject_adapter.ask(approvals, subject)
            names = [a.approver.display_name for a in approvals]
            subject_adapter.record(subject, by=None, data={"stage": stage, "decision": "asked", "approvers": names})
            opened = True
        if opened:
            return
    subject_adapter.approved(subject)


def withdraw_subject(kind: str, subject_id: int) -> int:
    """Nobody needs to decide any more on the subject (sent back, cancelled): its open and
    waiting steps are skipped. Returns how many steps were open or waiting."""
    steps = _subject_steps(kind, subject_id)
    count = 0
    for step in steps.filter(state=ApprovalStep.State.OPEN):
        _close_step(step, ApprovalStep.State.SKIPPED)
        count += 1
    count += steps.filter(state=ApprovalStep.State.WAITING).update(state=ApprovalStep.State.SKIPPED)
    return count


def describe_subjects(approvals: list[Approval]) -> None:
    """Give each approval of another subject its ``subject_view`` (a query per subject kind)."""
    by_kind: dict[str, set[int]] = {}
    for approval in approvals:
        step = approval.step
        if step.submission_id is None and step.subject_id is not None:
            by_kind.setdefault(step.subject_kind, set()).add(step.subject_id)
    views: dict[tuple[str, int], SubjectView] = {}
    for kind, ids in by_kind.items():
        subject_adapter = SUBJECTS.get(kind)
        if subject_adapter is None:
            continue
        subjects = subject_adapter.load(sorted(ids))
        for pk, view in subject_adapter.describe(list(subjects.values())).items():
            views[(kind, pk)] = view
    for approval in approvals:
        step = approval.step
        approval.subject_view = views.get((step.subject_kind, step.subject_id or 0))  # type: ignore[attr-defined]


REMIND_BATCH = 500


def send_reminders(*, now: Any = None) -> int:
    """Remind, once, each approver whose approval still waits after its delay: a catalog
    request's item ``remind_after_hours``, another subject's adapter ``remind_after_hours``
    (0: never). Claimed row by row (``reminded_at``), so two runs at once remind nobody twice.
    Returns how many were reminded."""
    now = now or timezone.now()
    sent = _remind_catalog(now)
    for kind, subject_adapter in SUBJECTS.items():
        hours = subject_adapter.remind_after_hours()
        if hours <= 0:
            continue
        due = list(
            _due(now, hours)
            .filter(step__subject_kind=kind)
            .select_related("step", "approver")
            .order_by("id")[:REMIND_BATCH]
        )
        subjects = subject_adapter.load(sorted({a.step.subject_id for a in due if a.step.subject_id is not None}))
        for approval in due:
            subject = subjects.get(approval.step.subject_id or 0)
            if subject is None or not subject_adapter.is_waiting(subject):
                continue
            with transaction.atomic():
                if _claim(approval, now):
                    subject_adapter.ask([approval], subject, reminder=True)
                    sent += 1
    return sent


def _due(now: Any, hours: int) -> QuerySet[Approval]:
    return Approval.objects.filter(
        decision=D.PENDING,
        reminded_at__isnull=True,
        asked_at__lte=now - timedelta(hours=hours),
        step__state=ApprovalStep.State.OPEN,
    )


def _claim(approval: Approval, now: Any) -> bool:
    """Take the reminder of ``approval`` (a conditional update: one run wins)."""
    return bool(
        Approval.objects.filter(pk=approval.pk, reminded_at__isnull=True, decision=D.PENDING).update(reminded_at=now)
    )


def _remind_catalog(now: Any) -> int:
    """The catalog requests' reminders, by each item's delay (one query per distinct delay)."""
    sent = 0
    delays = (
        ApprovalStep.objects.filter(state=ApprovalStep.State.OPEN, submission__item__remind_after_hours__gt=0)
        .values_list("submission__item__remind_after_hours", flat=True)
        .distinct()
    )
    for hours in sorted(set(delays)):
        due = list(
            _due(now, hours)
            .filter(step__submission__item__remind_after_hours=hours, step__submission__state=Submission.State.APPROVAL)
            .select_related("step__submission__ticket__requester", "step__submission__item", "approver", "on_behalf_of")
            .order_by("id")[:REMIND_BATCH]
        )
        for approval in due:
            submission = approval.step.submission
            assert submission is not None
            with transaction.atomic():
                if _claim(approval, now):
                    ask_approvers([approval], submission=submission, reminder=True)
                    sent += 1
    return sent


def _close_step(step: ApprovalStep, state: str) -> None:
    """Close the stage; the approvals still pending are no longer needed (their in-app requests
    are marked read)."""
    step.state = state
    step.save(update_fields=["state"])
    pending = list(step.approvals.filter(decision=D.PENDING).values_list("pk", flat=True))
    if pending:
        Approval.objects.filter(pk__in=pending).update(decision=D.NOT_NEEDED)
        notifications.mark_read_by_key(_key(pk) for pk in pending)


def _reject(submission: Submission, step: ApprovalStep, approval: Approval) -> None:
    _close_step(step, ApprovalStep.State.REJECTED)
    for other in submission.steps.filter(state=ApprovalStep.State.OPEN):
        _close_step(other, ApprovalStep.State.SKIPPED)  # a stage running at the same time
    submission.steps.filter(state=ApprovalStep.State.WAITING).update(state=ApprovalStep.State.SKIPPED)
    submission.state = Submission.State.REJECTED
    submission.save(update_fields=["state"])
    ticket = submission.ticket
    body = _("Request rejected by %(name)s: %(reason)s") % {
        "name": approval.approver.display_name,
        "reason": approval.comment,
    }
    # a public reply from the approver; approvers usually cannot see the ticket, the decision was authorised
    tickets.record_reply(ticket, author=approval.approver, body=body)
    tickets.transition_ticket(ticket, to=Ticket.Status.CLOSED, by=None, note=approval.comment)


@transaction.atomic
def withdraw_approvals(submission: Submission) -> None:
    """The request was cancelled or closed while waiting: nobody needs to decide any more."""
    for step in submission.steps.filter(state=ApprovalStep.State.OPEN):
        _close_step(step, ApprovalStep.State.SKIPPED)
    submission.steps.filter(state=ApprovalStep.State.WAITING).update(state=ApprovalStep.State.SKIPPED)
    submission.state = Submission.State.WITHDRAWN
    submission.save(update_fields=["state"])
