"""The change advisory board's approval, through the catalog's approval engine (one engine, not
two; ``palier/catalog/services/approvals.py``).

When a normal or emergency change enters "awaiting approval", ``start`` builds its stages from the
approval path of its type (``ChangeApprovalStage``, in order), keeping the stages whose minimum
risk is at or below the change's risk; the members of each stage's board decide by the board's
rule (any one, all, or a quorum). The last stage approved moves the change to "approved"; a
stage rejected moves it to "rejected" with the comment. A change sent back to assessment or
cancelled while it waits withdraws its approvals (``withdraw``). ``SUBJECT`` is the engine's
adapter for changes (``APPROVAL_SUBJECTS`` in ``palier/events.py``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from palier.catalog import links
from palier.catalog.models import Approval, ApprovalStage
from palier.catalog.services import approvals as engine
from palier.changes import history
from palier.changes.models import (
    RISK_ORDER,
    Change,
    ChangeApprovalStage,
    ChangeBoard,
    ChangeEvent,
    ChangeSettings,
    Risk,
)
from palier.people.models import User

KIND = "change"
S = Change.Status
RULES = {
    ChangeBoard.Rule.ANY: ApprovalStage.Rule.ANY,
    ChangeBoard.Rule.ALL: ApprovalStage.Rule.ALL,
    ChangeBoard.Rule.QUORUM: ApprovalStage.Rule.QUORUM,
}


def change_url(change_id: int) -> str:
    """The agent's change page."""
    try:
        return reverse("changes:detail", args=[change_id])
    except NoReverseMatch:
        return f"/agent/changes/{change_id}/"


def _rank(risk: str) -> int:
    return RISK_ORDER.index(risk) if risk in RISK_ORDER else 0


def stages_for(change: Change) -> list[ChangeApprovalStage]:
    """The stages of the change's approval path that apply to its risk, in order."""
    path = (
        ChangeApprovalStage.Path.EMERGENCY if change.kind == Change.Kind.EMERGENCY else ChangeApprovalStage.Path.NORMAL
    )
    stages = (
        ChangeApprovalStage.objects.filter(path=path).select_related("board", "board__group").order_by("order", "id")
    )
    return [s for s in stages if _rank(s.min_risk) <= _rank(change.risk)]


def _has_active_member(group_id: int) -> bool:
    """Whether the group has an active member."""
    return User.objects.filter(membership__group_id=group_id, is_active=True).exists()


def start(change: Change, by: User | None) -> None:
    """The hook of ``ON_AWAITING_APPROVAL``: ask the boards (in the transition's transaction; a
    ValidationError aborts the transition)."""
    if change.kind == Change.Kind.STANDARD:
        return
    stages = stages_for(change)
    if not stages:
        raise ValidationError(
            _("No change board is set up for %(kind)s changes: an administrator must define the approval path.")
            % {"kind": Change.Kind(change.kind).label.lower()}
        )
    empty = [s.board.name for s in stages if not _has_active_member(s.board.group_id)]
    if empty:
        raise ValidationError(
            _("The board %(name)s has no active member: an administrator must fix its group.") % {"name": empty[0]}
        )
    specs = [
        engine.StepSpec(
            group_id=stage.board.group_id,
            rule=RULES[ChangeBoard.Rule(stage.board.rule)],
            quorum=stage.board.quorum if stage.board.rule == ChangeBoard.Rule.QUORUM else None,
            label=stage.board.name,
        )
        for stage in stages
    ]
    engine.start_subject(KIND, change, specs)


def withdraw(change: Change, by: User | None) -> None:
    """The hook of ``ON_LEAVE_APPROVAL``: the change left "awaiting approval"; whatever is still
    asked is no longer needed."""
    if engine.withdraw_subject(KIND, change.pk):
        history.record(change, ChangeEvent.Kind.APPROVAL, actor=by, data={"decision": "withdrawn"})


class ChangeSubject:
    """The engine's adapter for changes."""

    def lock(self, subject_id: int) -> Change:
        return Change.objects.select_for_update().get(pk=subject_id)

    def is_waiting(self, subject: Change) -> bool:
        return subject.status == S.AWAITING_APPROVAL

    def requester(self, subject: Change) -> User | None:
        return subject.requested_by

    def record(self, subject: Change, *, by: User | None, data: dict[str, Any]) -> None:
        history.record(subject, ChangeEvent.Kind.APPROVAL, actor=by, data=data)

    def approved(self, subject: Change) -> None:
        from palier.changes.services.changes import transition_change

        transition_change(subject, to=S.APPROVED, by=None, system=True)

    def rejected(self, subject: Change, approval: Approval) -> None:
        from palier.changes.services.changes import transition_change

        transition_change(subject, to=S.REJECTED, by=None, system=True, note=approval.comment)

    def remind_after_hours(self) -> int:
        return int(ChangeSettings.current().remind_after_hours)

    def load(self, subject_ids: list[int]) -> dict[int, Change]:
        return {c.pk: c for c in Change.objects.filter(pk__in=subject_ids).select_related("requested_by")}

    def describe(self, subjects: list[Change]) -> dict[int, engine.SubjectView]:
        return {c.pk: _view(c) for c in subjects}

    def ask(self, approvals: list[Approval], subject: Change, *, reminder: bool = False) -> None:
        """An email to each approver with signed approve/reject links (in their language); a
        reminder is another email under its own key. Stored under a key per approval: a retried
        job sends nothing twice."""
        from palier.notifications import services as notifications
        from palier.notifications.email import base_url, queue_templated
        from palier.notifications.models import Notification, NotificationPreference

        in_app, by_mail = notifications.channels_for(
            [a.approver for a in approvals], event=NotificationPreference.Event.APPROVAL
        )
        in_app_ids, mail_ids = {u.pk for u in in_app}, {u.pk for u in by_mail}
        for approval in approvals:
            if approval.approver_id in in_app_ids and not reminder:
                # under the engine's key: marked read when decided or no longer needed
                notifications.notify(
                    [approval.approver],
                    kind=Notification.Kind.APPROVAL,
                    key=engine.notification_key(approval.pk),
                    reference=subject.reference,
                    title=subject.title,
                )
            if approval.approver_id not in mail_ids:
                continue

            def link(decision: str, approval_id: int = approval.pk) -> str:
                return base_url() + reverse(
                    "catalog:link", args=[links.make_token(approval_id=approval_id, decision=decision)]
                )

            context = {
                "reference": subject.reference,
                "title": subject.title,
                "risk": Risk(subject.risk).label,
                "kind": subject.kind,
                "start": subject.planned_start,
                "end": subject.planned_end,
                "stage": approval.step.label,
                "on_behalf_of": approval.on_behalf_of.display_name if approval.on_behalf_of else "",
                "reminder": reminder,
                "approve_url": link("approved"),
                "reject_url": link("rejected"),
                "change_url": base_url() + change_url(subject.pk),
                "approvals_url": base_url() + reverse("catalog:approvals"),
                "days": links.LINK_DAYS,
            }
            key = f"change-approval-{'reminder-' if reminder else ''}{approval.pk}"
            queue_templated(to=[approval.approver], template="changes/email/approval_request", context=context, key=key)


def _when(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else "—"


def _view(change: Change) -> engine.SubjectView:
    return engine.SubjectView(
        reference=change.reference,
        title=change.title,
        url=change_url(change.pk),
        requester=change.requested_by.display_name if change.requested_by else "",
        rows=[
            (_("Type"), str(Change.Kind(change.kind).label)),
            (_("Risk"), str(Risk(change.risk).label)),
            (_("Window"), f"{_when(change.planned_start)} – {_when(change.planned_end)}"),
        ],
    )


SUBJECT = ChangeSubject()
