"""Approvals: stages open one after the other; each asks its approvers (by email, with signed
links, in the application, and on the "My approvals" page); a rejection closes the request, the
last approval starts its fulfilment. Every decision records an "approval" event on the request."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.catalog import links, permissions
from palier.catalog.models import Approval, ApprovalStage, ApprovalStep, Submission
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


def _approvers(step: ApprovalStep, requester: User) -> list[User]:
    if step.kind == ApprovalStage.Kind.MANAGER:
        manager = requester.manager
        return [manager] if manager is not None and manager.is_active else []
    if step.kind == ApprovalStage.Kind.PEOPLE:
        return list(User.objects.filter(pk__in=step.people_ids, is_active=True).order_by("id"))
    if step.group_id is None:
        return []
    return list(User.objects.filter(membership__group_id=step.group_id, is_active=True).order_by("id"))


def open_next_step(submission: Submission) -> None:
    """Open the first waiting step (skipping steps nobody can approve); after the last one, move
    the request on to fulfilment. Called inside the caller's transaction."""
    from palier.catalog.services import fulfilment

    ticket = submission.ticket
    for step in submission.steps.filter(state=ApprovalStep.State.WAITING).order_by("order"):
        people = _approvers(step, ticket.requester)
        if not people:
            step.state = ApprovalStep.State.SKIPPED
            step.save(update_fields=["state"])
            history.record(
                ticket, E.APPROVAL, by=None, internal=True, stage=step.order, decision="skipped", reason="no-approver"
            )
            continue
        step.state = ApprovalStep.State.OPEN
        step.save(update_fields=["state"])
        approvals = [Approval.objects.create(step=step, approver=person) for person in people]
        ask_approvers(approvals, submission=submission)
        names = [p.display_name for p in people]  # the requester sees them in the request's approval steps
        history.record(ticket, E.APPROVAL, by=None, internal=True, stage=step.order, decision="asked", approvers=names)
        return
    target = Ticket.Status.ASSIGNED if ticket.assignee_id else Ticket.Status.NEW
    tickets.transition_ticket(ticket, to=target, by=None)
    fulfilment.start_fulfilment(submission)


def ask_approvers(approvals: list[Approval], *, submission: Submission) -> None:
    """Tell each approver their approval is requested: an email with signed links and an in-app
    notification pointing to "My approvals", each as their preferences allow. Both are stored
    under the key ``catalog-approval-<id>``, so calling this again (a retried job) adds nothing."""
    ticket = submission.ticket
    in_app, by_mail = notifications.channels_for(
        [a.approver for a in approvals], event=NotificationPreference.Event.APPROVAL
    )
    in_app_ids, mail_ids = {u.pk for u in in_app}, {u.pk for u in by_mail}
    item = submission.item
    for approval in approvals:
        key = _key(approval.pk)
        if approval.approver_id in in_app_ids:
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
            _email(approval, ticket, submission)


def _key(approval_id: int) -> str:
    return f"catalog-approval-{approval_id}"


def _email(approval: Approval, ticket: Ticket, submission: Submission) -> None:
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
    }
    queue_templated(
        to=[approval.approver],
        template="catalog/email/approval_request",
        context=context,
        ticket=ticket,
        key=_key(approval.pk),
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
    submission_id = ApprovalStep.objects.filter(pk=approval.step_id).values_list("submission_id", flat=True).get()
    submission = Submission.objects.select_for_update().select_related("ticket").get(pk=submission_id)
    locked = Approval.objects.select_for_update().select_related("step", "approver").get(pk=approval.pk)
    if locked.decision != D.PENDING or submission.state != Submission.State.APPROVAL:
        raise AlreadyDecided(_("This approval was already decided."))
    if by is not None and not permissions.can_decide(by, locked):
        raise PermissionDenied(_("You are not asked to approve this request."))
    locked.decision, locked.comment, locked.via, locked.decided_at = decision, comment, via, timezone.now()
    locked.save(update_fields=["decision", "comment", "via", "decided_at"])
    notifications.mark_read_by_key([_key(locked.pk)])  # the approver's "approval requested" row
    step, ticket = locked.step, submission.ticket
    history.record(
        ticket,
        E.APPROVAL,
        by=locked.approver,
        stage=step.order,
        decision=decision,
        approver=locked.approver.display_name,
        comment=comment,
        via=via,
    )
    if decision == D.REJECTED:
        _reject(submission, step, locked)
    elif step.rule == ApprovalStage.Rule.ANY or not step.approvals.filter(decision=D.PENDING).exists():
        _close_step(step, ApprovalStep.State.APPROVED)
        open_next_step(submission)
    return locked


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
