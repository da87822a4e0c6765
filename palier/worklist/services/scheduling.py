"""Scheduled replies and reminders: schedule, cancel, run when due, and cancel when the requester
answers first.

* A scheduled **reply** is a public comment posted in its author's name at ``run_at``, through
  ``comment_on_ticket`` (notifications, history and the first-response time as for a reply sent
  by hand). A scheduled **reminder** is an in-app notification to its author at ``run_at``.
* Times are chosen in the author's working time zone (``User.work_time_zone``, else the desk's):
  a naive ``run_at`` is read in that zone, stored in UTC, and shown back in that zone.
* Exactly once: ``run_due`` claims each due row with a conditional update (``state`` pending →
  done) in the same transaction that posts the reply or notifies; a second worker's update finds
  no pending row and does nothing, a worker that dies rolls back and leaves it pending.
* The requester answering (a public comment on the web or by email) cancels the pending replies
  and reminders scheduled before it: the ``worklist`` consumer of the ticket event stream does it
  within seconds, and ``run_due`` checks again before posting, so a late stream cannot post a
  reply the requester made pointless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError, IllegalTransition
from palier.notifications import services as notifications
from palier.notifications.models import Notification
from palier.people.models import User
from palier.tickets import history
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, Ticket, TicketEvent
from palier.worklist import permissions
from palier.worklist.models import MAX_BODY, ScheduledAction

log = logging.getLogger(__name__)
E = TicketEvent.Kind
K = ScheduledAction.Kind
ST = ScheduledAction.State
MAX_AHEAD = timedelta(days=366)
MAX_PENDING = 20  # per author and ticket


def zone_of(user: User | None) -> ZoneInfo:
    """``user``'s working time zone, the desk's when unset or unknown."""
    for name in ((user.work_time_zone if user is not None else "") or "", settings.TIME_ZONE):
        try:
            return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
        except (KeyError, ValueError):
            continue
    return ZoneInfo("UTC")


def _when(run_at: datetime | None, zone: ZoneInfo) -> datetime:
    if not isinstance(run_at, datetime):
        raise ValidationError({"run_at": _("Choose a day and a time.")})
    if timezone.is_naive(run_at):
        run_at = run_at.replace(tzinfo=zone)  # zoneinfo: the earlier of an ambiguous time
    now = timezone.now()
    if run_at <= now:
        raise ValidationError({"run_at": _("Choose a time in the future.")})
    if run_at > now + MAX_AHEAD:
        raise ValidationError({"run_at": _("Choose a time within a year.")})
    return run_at


def _body(kind: str, body: str) -> str:
    body = str(body or "").replace("\x00", "").strip()
    if kind == K.REPLY and not body:
        raise ValidationError({"body": _("Write the reply to send.")})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": _("At most %(n)d characters.") % {"n": MAX_BODY}})
    return body


@transaction.atomic
def schedule(ticket: Ticket, *, by: User, kind: str, run_at: datetime | None, body: str = "") -> ScheduledAction:
    """Schedule a public reply (``kind`` "reply") or a reminder to oneself ("reminder") on
    ``ticket`` at ``run_at`` (naive: in ``by``'s time zone)."""
    permissions.require(by, "schedule", ticket)
    if kind not in K.values:
        raise ValidationError({"kind": _("Choose a reply or a reminder.")})
    zone = zone_of(by)
    when = _when(run_at, zone)
    body = _body(kind, body)
    ticket = ticket_services.lock_ticket(ticket)
    if not ticket.is_open:
        raise IllegalTransition(_("This ticket is no longer open."), field="run_at")
    pending = ScheduledAction.objects.filter(ticket_id=ticket.pk, author_id=by.pk, state=ST.PENDING).count()
    if pending >= MAX_PENDING:
        raise ValidationError({"run_at": _("At most %(n)d follow-ups can wait on one ticket.") % {"n": MAX_PENDING}})
    action = ScheduledAction.objects.create(
        ticket=ticket, kind=kind, author=by, body=body, run_at=when, time_zone=str(zone.key)
    )
    _event(ticket, by, "scheduled", action)
    return action


def _event(ticket: Ticket, by: User | None, what: str, action: ScheduledAction, **data: Any) -> None:
    local = action.run_at.astimezone(ZoneInfo(action.time_zone or settings.TIME_ZONE))
    history.record(
        ticket,
        E.FOLLOWUP,
        by=by,
        internal=True,
        action=what,
        followup=action.kind,
        scheduled=action.pk,
        at=local.strftime("%Y-%m-%d %H:%M"),
        zone=action.time_zone,
        **data,
    )


@transaction.atomic
def cancel(action: ScheduledAction, *, by: User) -> ScheduledAction:
    """Cancel a pending reply or reminder (its author, or an administrator)."""
    permissions.require_cancel(by, action)
    claimed = ScheduledAction.objects.filter(pk=action.pk, state=ST.PENDING).update(
        state=ST.CANCELLED, reason=ScheduledAction.Reason.AGENT, finished_at=timezone.now()
    )
    if not claimed:
        raise IllegalTransition(_("This follow-up already ran or was cancelled."), field="run_at")
    action.refresh_from_db()
    _event(action.ticket, by, "cancelled", action, reason=action.reason)
    return action


# --- the worklist-due job -------------------------------------------------------------------------


def run_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Run every pending action whose time has come (oldest first); how many ran."""
    now = now or timezone.now()
    ids = list(
        ScheduledAction.objects.filter(state=ST.PENDING, run_at__lte=now)
        .order_by("run_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if run_one(pk, now=now))


def _requester_answered(action: ScheduledAction, ticket: Ticket) -> bool:
    return (
        Comment.objects.filter(ticket_id=ticket.pk, is_internal=False, created_at__gt=action.created_at)
        .filter(Q(author_id=ticket.requester_id) | Q(author__role=User.Role.REQUESTER))
        .exists()
    )


@transaction.atomic
def run_one(pk: int, *, now: datetime | None = None) -> bool:
    """Claim one due action and run it, exactly once: False when another worker claimed it first."""
    now = now or timezone.now()
    claimed = ScheduledAction.objects.filter(pk=pk, state=ST.PENDING, run_at__lte=now).update(
        state=ST.DONE, finished_at=now
    )
    if not claimed:
        return False
    action = ScheduledAction.objects.select_related("ticket", "author").get(pk=pk)
    ticket = action.ticket
    reason = ""
    if _requester_answered(action, ticket):
        reason = ScheduledAction.Reason.REQUESTER
    elif not ticket.is_open:
        reason = ScheduledAction.Reason.CLOSED
    elif action.kind == K.REPLY:
        reason = _post_reply(action)
    else:
        _remind(action)
    if reason:
        ScheduledAction.objects.filter(pk=pk).update(state=ST.CANCELLED, reason=reason)
        action.reason = reason
        _event(ticket, None, "cancelled", action, reason=reason)
    return True


def _post_reply(action: ScheduledAction) -> str:
    """Post the reply as its author; "" when posted, else why not (the author lost access)."""
    try:
        with transaction.atomic():
            comment = ticket_services.comment_on_ticket(action.ticket, by=action.author, body=action.body)
    except (DomainError, ValidationError) as exc:
        log.warning("scheduled reply %s not posted: %s", action.pk, exc)
        notifications.notify(
            [action.author],
            kind=Notification.Kind.REMINDER,
            ticket=action.ticket,
            key=f"scheduled:{action.pk}:refused",
            text=_("Your scheduled reply could not be posted."),
        )
        return ScheduledAction.Reason.REFUSED
    ScheduledAction.objects.filter(pk=action.pk).update(comment=comment)
    _event(action.ticket, None, "sent", action, comment=comment.pk)
    return ""


def _remind(action: ScheduledAction) -> None:
    notifications.notify(
        [action.author],
        kind=Notification.Kind.REMINDER,
        ticket=action.ticket,
        key=f"scheduled:{action.pk}",
        text=action.body,
    )
    _event(action.ticket, None, "reminded", action)


# --- the worklist stream consumer ---------------------------------------------------------------


def handle_events(events: list[TicketEvent]) -> None:
    """The ``worklist`` consumer: a public comment by the requester (or anyone on their side: a
    colleague in copy of the email thread) cancels the replies and reminders scheduled on that
    ticket before it. Idempotent: only pending rows change."""
    public = [e for e in events if e.kind == E.COMMENTED and not e.is_internal and e.actor_id is not None]
    if not public:
        return
    tickets = dict(Ticket.objects.filter(pk__in={e.ticket_id for e in public}).values_list("pk", "requester_id"))
    staff = set(
        User.objects.filter(pk__in={e.actor_id for e in public})
        .exclude(role=User.Role.REQUESTER)
        .values_list("pk", flat=True)
    )
    answered: dict[int, datetime] = {}
    for event in public:
        if event.actor_id == tickets.get(event.ticket_id) or event.actor_id not in staff:
            answered[event.ticket_id] = max(answered.get(event.ticket_id, event.created_at), event.created_at)
    for ticket_id, at in answered.items():
        _cancel_answered(ticket_id, at)


def _cancel_answered(ticket_id: int, at: datetime) -> None:
    with transaction.atomic():
        pending = list(
            ScheduledAction.objects.select_related("ticket").filter(
                ticket_id=ticket_id, state=ST.PENDING, created_at__lt=at
            )
        )
        for action in pending:
            done = ScheduledAction.objects.filter(pk=action.pk, state=ST.PENDING).update(
                state=ST.CANCELLED, reason=ScheduledAction.Reason.REQUESTER, finished_at=timezone.now()
            )
            if done:
                _event(action.ticket, None, "cancelled", action, reason=ScheduledAction.Reason.REQUESTER)
