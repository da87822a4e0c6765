"""Notifications in Teams: a consumer of the ticket event stream (``STREAM_CONSUMERS`` in
``palier/events.py``) telling the requester, in their personal chat with the bot, about an agent's
public reply, a status change and a resolution to confirm (with the buttons to confirm or reopen);
and approvers about an approval to give (``APPROVAL_ASKED``), as a card with Approve and Reject.

Only people whose Teams account is linked and who talked to the bot (Palier knows their
conversation) are told, unless they turned the "Microsoft Teams" channel off for that event on
their notification preferences. Each message names its ticket (``SentMessage``), so replying to it
adds a comment to that ticket. Each is queued once per event (outbox key), sent by a worker.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import translation

from palier.catalog import selectors as catalog_selectors
from palier.catalog.models import Approval
from palier.integrations.models import ChatApp, ChatIdentity
from palier.integrations.services import chat
from palier.notifications.models import NotificationPreference
from palier.people.models import User
from palier.teamsbot import cards, connector
from palier.teamsbot.models import Conversation
from palier.tickets.models import Comment, Ticket, TicketEvent

log = logging.getLogger(__name__)

E = TicketEvent.Kind
P = NotificationPreference.Event
S = Ticket.Status
TOLD_STATUSES = {S.PENDING_REQUESTER, S.RESOLVED, S.CLOSED, S.CANCELLED, S.IN_PROGRESS}


def handle_events(events: list[TicketEvent]) -> None:
    """Each event in its own savepoint: one failure is logged and the others go on."""
    wanted = [e for e in events if _relevant(e)]
    if not wanted:
        return
    for event in wanted:
        try:
            with transaction.atomic():
                _tell(event)
        except Exception:
            log.exception("Teams notification failed for event %s", event.pk)


def _relevant(event: TicketEvent) -> bool:
    data = event.data or {}
    if event.kind == E.CHANGED and data.get("field") == "assignee":
        return True  # for the agent: internal history is theirs to see
    if event.is_internal:
        return False
    if event.kind == E.COMMENTED:
        return True
    return event.kind == E.STATUS and data.get("new") in TOLD_STATUSES and data.get("reason") != "requester-replied"


def _conversation(user: User) -> Conversation | None:
    linked = ChatIdentity.objects.filter(kind=ChatApp.Kind.TEAMS, user=user).values_list("external_id", flat=True)
    return (
        Conversation.objects.select_related("app")
        .filter(aad_object_id__in=list(linked), app__is_active=True)
        .order_by("-updated_at")
        .first()
    )


def _wants(user: User, event: str) -> bool:
    return not NotificationPreference.objects.filter(
        user=user, event=event, channel=NotificationPreference.Channel.TEAMS, enabled=False
    ).exists()


def _tell_assignee(event: TicketEvent) -> None:
    """An agent told of a ticket assigned to them, with the box for an internal note."""
    ticket = Ticket.objects.select_related("assignee").get(pk=event.ticket_id)
    assignee = ticket.assignee
    if assignee is None or assignee.display_name != (event.data or {}).get("new") or event.actor_id == assignee.pk:
        return  # reassigned since, or they took it themselves
    if not assignee.is_active or not _wants(assignee, P.ASSIGNED):
        return
    conversation = _conversation(assignee)
    if conversation is None:
        return
    with translation.override(chat.language_for(assignee)):
        content = cards.assigned(ticket)
    connector.queue(
        conversation, cards.message(content), key=f"teams:event:{event.pk}:{assignee.pk}", ticket_id=ticket.pk
    )


def _tell(event: TicketEvent) -> None:
    if event.kind == E.CHANGED:
        _tell_assignee(event)
        return
    ticket = Ticket.objects.select_related("requester").get(pk=event.ticket_id)
    requester = ticket.requester
    if requester is None or not requester.is_active or event.actor_id == requester.pk:
        return  # what the requester did themselves is not news to them
    preference = P.REPLY if event.kind == E.COMMENTED else P.STATUS
    if not _wants(requester, preference):
        return
    conversation = _conversation(requester)
    if conversation is None:
        return
    with translation.override(chat.language_for(requester)):
        if event.kind == E.COMMENTED:
            comment = (
                Comment.objects.select_related("author")
                .filter(pk=int((event.data or {}).get("comment") or 0), is_internal=False)
                .first()
            )
            if comment is None:
                return
            author = comment.author.full_name if comment.author else ""
            content = cards.agent_reply(ticket, author, comment.body)
        elif event.data.get("new") == S.RESOLVED:
            content = cards.resolution(ticket)
        else:
            content = cards.status_changed(ticket, str(event.data.get("new")))
    connector.queue(
        conversation, cards.message(content), key=f"teams:event:{event.pk}:{requester.pk}", ticket_id=ticket.pk
    )


def approvals_asked(approvals: list[Approval]) -> None:
    """New approvals (``APPROVAL_ASKED``, in the asking transaction): a card with Approve and
    Reject to each approver who talks to the bot and kept the Teams channel on for approvals."""
    for approval in approvals:
        approver = approval.approver
        if approver is None or not approver.is_active or not _wants(approver, P.APPROVAL):
            continue
        conversation = _conversation(approver)
        if conversation is None:
            continue
        with translation.override(chat.language_for(approver)):
            view = catalog_selectors.with_subjects([approval])[0]
            subject = getattr(view, "subject_view", None)
            submission = approval.step.submission
            if subject is not None:
                reference, title = str(subject.reference), str(subject.title)
            elif submission is not None:
                reference, title = submission.ticket.reference, str(submission.item.name)
            else:
                reference, title = f"#{approval.pk}", ""
            content = cards.approval(reference, title, approval.pk)
        connector.queue(conversation, cards.message(content), key=f"teams:approval:{approval.pk}")
