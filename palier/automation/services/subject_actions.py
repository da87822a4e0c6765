"""Running one rule's actions on one problem or one change, as the automation user, through the
owning app's services (``problems.services``, ``changes.services``): their validation, lifecycle
and permission rules apply as for a person, and their history names the automation user.
Messages go through the notifications app (in-app, and email in each recipient's language);
webhooks through the outbox (``webhooks.queue_webhook``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.automation import actions as ticket_actions
from palier.automation.models import Rule
from palier.automation.services.execute import get_referenced, run_with
from palier.automation.services.rules import CompiledRule
from palier.automation.services.webhooks import queue_webhook
from palier.changes import services as change_services
from palier.changes.approvals import change_url
from palier.changes.models import Change
from palier.notifications import email
from palier.notifications import services as notifications
from palier.notifications.models import Notification
from palier.people.models import SupportGroup, User
from palier.problems import services as problem_services
from palier.problems.models import Problem
from palier.tickets.models import Level
from palier.tickets.services import priority_for

S = Rule.Subject
Record = Problem | Change


@dataclass
class SubjectRunContext:
    rule: CompiledRule
    subject: str
    record: Any  # the locked Problem or Change, refreshed by each action
    robot: User
    key: str  # unique per (rule, event): idempotency key of notifications, emails and webhooks
    trigger: str
    event_id: int
    index: int = 0
    done: list[str] = field(default_factory=list)

    @property
    def action_key(self) -> str:
        return f"{self.key}:{self.index}"


_get = get_referenced  # the ticket engine's lookup: the same message and the same turning off


def record_path(subject: str, record_id: int) -> str:
    if subject == S.PROBLEM:
        return reverse("problems:detail", args=[record_id])
    return change_url(record_id)


def _assignee(record: Any) -> User | None:
    return record.assignee if isinstance(record, Problem) else record.implementer


def placeholders(run: SubjectRunContext) -> dict[str, str]:
    record = run.record
    person = _assignee(record)
    return {
        "reference": record.reference,
        "title": record.title,
        "status": str(record.get_status_display()),
        "priority": f"P{record.priority}" if isinstance(record, Problem) else "",
        "group": record.group.name if record.group_id and record.group else "",
        "assignee": person.display_name if person is not None else "",
        "link": email.base_url() + record_path(run.subject, record.pk),
        "rule": run.rule.name,
    }


# --- through the owning app's services ---------------------------------------------------------------


def _update(run: SubjectRunContext, **values: Any) -> bool:
    before = run.record.version
    if run.subject == S.PROBLEM:
        run.record = problem_services.update_problem(run.record, by=run.robot, **values)
    else:
        run.record = change_services.update_change(run.record, by=run.robot, **values)
    return bool(run.record.version != before)


def _set_group(run: SubjectRunContext, action: dict[str, Any]) -> str:
    group = _get(SupportGroup, int(action["value"]))
    if run.record.group_id == group.pk:
        return ""
    return f"group={group.name}" if _update(run, group=group) else ""


def _set_assignee(run: SubjectRunContext, action: dict[str, Any]) -> str:
    user = _get(User, int(action["value"]), is_active=True)
    name = "assignee" if run.subject == S.PROBLEM else "implementer"
    if getattr(run.record, f"{name}_id") == user.pk:
        return ""
    return f"{name}={user.display_name}" if _update(run, **{name: user}) else ""


def _set_priority(run: SubjectRunContext, action: dict[str, Any]) -> str:
    """A problem's priority comes from its impact and urgency (the desk's priority matrix): the
    pair giving the priority wanted that changes the fewest of the two."""
    wanted = int(action["value"])
    problem = run.record
    if problem.priority == wanted:
        return ""
    pairs = [(i, u) for i in Level.values for u in Level.values if priority_for(i, u) == wanted]
    if not pairs:
        raise ValidationError(_("No impact and urgency give P%(n)d in the priority matrix.") % {"n": wanted})
    impact, urgency = min(pairs, key=lambda p: ((p[0] != problem.impact) + (p[1] != problem.urgency), p))
    _update(run, impact=impact, urgency=urgency)
    return f"priority={run.record.priority}"


def _set_status(run: SubjectRunContext, action: dict[str, Any]) -> str:
    """Move a change where its lifecycle allows (never approved or rejected: validated on save)."""
    target = action["value"]
    if run.record.status == target:
        return ""
    run.record = change_services.transition_change(run.record, to=target, by=run.robot)
    return f"status={target}"


def _note(run: SubjectRunContext, action: dict[str, Any]) -> str:
    body = ticket_actions.fill(action["text"], placeholders(run))
    if run.subject == S.PROBLEM:
        problem_services.comment_on_problem(run.record, by=run.robot, body=body, internal=True)
    else:
        change_services.comment_on_change(run.record, by=run.robot, body=body)
    return "comment"


def _recipients(run: SubjectRunContext, action: dict[str, Any]) -> list[User]:
    to = action["to"]
    if to == "user":
        return [_get(User, int(action["value"]), is_active=True)]
    if to == "owner":
        person = _assignee(run.record)
        return [person] if person is not None and person.is_active else []
    group = _get(SupportGroup, int(action["value"])) if to == "group" else run.record.group
    if group is None:
        return []
    return list(group.members.filter(is_active=True).order_by("pk"))


def _notify(run: SubjectRunContext, action: dict[str, Any]) -> str:
    """In the application, and by email in each recipient's language, once per run and action.
    Problems and changes are internal records: only active staff are told (a requester named or
    in the group is left out)."""
    users = [user for user in _recipients(run, action) if user.is_agent and user.is_active]
    if not users:
        return ""
    values = placeholders(run)
    message = ticket_actions.fill(action["text"], values)
    record = run.record
    path = record_path(run.subject, record.pk)
    notifications.notify(
        users,
        kind=Notification.Kind.RULE,
        key=run.action_key,
        subject=run.subject,
        reference=record.reference,
        title=record.title,
        url=path,
        message=message[:500],
        rule=run.rule.name,
    )
    context = {
        "reference": record.reference,
        "title": record.title,
        "message": message,
        "rule": run.rule.name,
        "url": values["link"],
        "subject_kind": run.subject,
    }
    email.queue_templated(to=users, template="automation/email/rule_notice", context=context, key=run.action_key)
    return f"notify×{len(users)}"


def webhook_payload(run: SubjectRunContext) -> dict[str, Any]:
    record = run.record
    person = _assignee(record)
    body: dict[str, Any] = {
        "id": record.pk,
        "reference": record.reference,
        "title": record.title,
        "status": record.status,
        "group": record.group.name if record.group_id and record.group else None,
        "url": email.base_url() + record_path(run.subject, record.pk),
    }
    if isinstance(record, Problem):
        body.update(priority=record.priority, owner=person.email if person else None)
    else:
        body.update(
            kind=record.kind,
            risk=record.risk,
            outcome=record.outcome or None,
            implementer=person.email if person else None,
            planned_start=record.planned_start.isoformat() if record.planned_start else None,
            planned_end=record.planned_end.isoformat() if record.planned_end else None,
        )
    return {
        "delivery": run.action_key,
        "rule": {"id": run.rule.id, "name": run.rule.name},
        "trigger": run.trigger,
        "event": run.event_id,
        "sent_at": timezone.now().isoformat(),
        run.subject: body,
    }


def _webhook(run: SubjectRunContext, action: dict[str, Any]) -> str:
    queue_webhook(url=action["url"], secret=run.rule.secret, payload=webhook_payload(run))
    return "webhook"


HANDLERS: dict[str, Callable[[SubjectRunContext, dict[str, Any]], str]] = {
    "set_group": _set_group,
    "set_assignee": _set_assignee,
    "set_priority": _set_priority,
    "set_status": _set_status,
    "note": _note,
    "notify": _notify,
    "webhook": _webhook,
}


def run_actions(run: SubjectRunContext) -> list[str]:
    """Run the rule's actions in order (the caller holds a savepoint: a failure undoes them all)."""
    return run_with(run, HANDLERS)
