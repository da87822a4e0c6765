"""Notification rules: a consumer of the ticket event stream that tells people what concerns them,
by email (through the outbox) and in the application (``Notification`` rows).

Who hears about what (never the event's author, except the requester's acknowledgement receipt):

- ``created``: the requester gets an acknowledgement with the number and, under an SLA, the
  expected first answer (at most ``ACK_LIMIT`` per address per hour); an assignee set at creation
  hears about the assignment.
- ``commented`` (public reply): by an agent, the requester and the watchers, with the text; by the
  requester, the assignee.
- ``status`` to pending requester, resolved or closed: the requester.
- ``merged_into``: the requester of the merged ticket hears which ticket now holds the
  conversation (they watch it from then on); the merge's own status change tells nobody.
- ``changed`` assignee: the new assignee. ``escalated``: the members of the new group (routing's
  in-app row for the group's manager has the same key, so a manager who is a member gets one row).
- ``@alice@acme.test`` or ``@alice`` in a reply or an internal note: the mentioned user, who must
  see the ticket; for internal notes, agents only.

Internal events only ever reach agents. Keys are ``event:<id>:<purpose>``, so an event delivered
twice sends nothing twice. Approval requests are not read from the stream: the catalog's approval
service tells each approver when their stage opens.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from palier.core import outbox
from palier.mail import selectors as mail_selectors
from palier.notifications import email
from palier.notifications.models import NotificationPreference, OutgoingEmail
from palier.notifications.services import channels_for, event_key, notify
from palier.people.models import SupportGroup, User
from palier.tickets.models import Comment, Ticket, TicketEvent

log = logging.getLogger(__name__)

E = TicketEvent.Kind
P = NotificationPreference.Event
ACK_LIMIT = 5  # acknowledgements per address per hour
ACK_WINDOW = timedelta(hours=1)
REQUESTER_STATUSES = {Ticket.Status.PENDING_REQUESTER, Ticket.Status.RESOLVED, Ticket.Status.CLOSED}
EXCERPT = 4000
_MENTION = re.compile(r"(?<![\w.@])@([\w.%+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


@dataclass
class Message:
    """One notification purpose for a set of people."""

    purpose: str
    recipients: list[User]
    context: dict[str, Any] = field(default_factory=dict)


def handle_events(events: list[TicketEvent]) -> None:
    """The stream handler: each event in its own savepoint, so one bad event does not stop the rest;
    a failed one goes to the outbox (in the cursor's transaction), which tries it again later."""
    for event in events:
        if event.kind in TicketEvent.SLA_KINDS:  # the SLA sweep notifies of these itself, in bulk
            continue
        try:
            with transaction.atomic():
                deliver(event)
        except Exception as exc:
            log.exception("notifications: event %s could not be delivered; retried from the outbox", event.pk)
            error = f"{type(exc).__name__}: {exc}"
            outbox.add("notifications.event", key=str(event.pk), payload={"event": event.pk}, error=error)


def retry_event(payload: dict[str, Any]) -> None:
    """The outbox handler: deliver one event again (idempotent: every message has its key)."""
    event = TicketEvent.objects.select_related("ticket", "actor").filter(pk=payload["event"]).first()
    if event is None:
        raise outbox.Permanent(f"event {payload['event']} no longer exists")
    with transaction.atomic():
        deliver(event)


def deliver(event: TicketEvent) -> int:
    """Queue the emails and in-app notifications for one event. Returns how many emails were added."""
    ticket = Ticket.objects.select_related("requester", "assignee", "group").get(pk=event.ticket_id)
    sent = 0
    for message in plan(event, ticket):
        recipients = _audience(event, ticket, message.recipients)
        if recipients:
            sent += _send(event, ticket, message, recipients)
    return sent


def plan(event: TicketEvent, ticket: Ticket) -> list[Message]:
    """What the event means for whom (before preferences and the author rule)."""
    kind, data = event.kind, event.data or {}
    if kind == E.CREATED:
        return _on_created(ticket)
    if kind in (E.COMMENTED, E.NOTED):
        return _on_comment(event, ticket)
    if kind == E.MERGED_INTO:
        into = Ticket.objects.filter(pk=int(data.get("other_id") or 0)).first()
        return [Message(P.MERGED, [ticket.requester], {"into": into})] if into is not None else []
    if kind == E.STATUS and data.get("reason") in ("merged", "unmerged"):
        return []  # the merge has its own message
    if kind == E.STATUS and data.get("new") in REQUESTER_STATUSES:
        return [Message(P.STATUS, [ticket.requester], {"status": _status_label(str(data["new"]))})]
    assignee = ticket.assignee
    if kind == E.CHANGED and data.get("field") == "assignee" and assignee is not None:
        # still the one this event assigned (a later reassignment has its own event)
        return [Message(P.ASSIGNED, [assignee])] if assignee.display_name == data.get("new") else []
    if kind == E.ESCALATED:
        group = SupportGroup.objects.filter(name=data.get("to_group") or "").first()
        if group is not None:
            members = list(group.members.filter(is_active=True))
            return [Message(P.ESCALATED, members, {"group": group.name, "reason": data.get("reason") or ""})]
    return []


def _on_created(ticket: Ticket) -> list[Message]:
    requester = ticket.requester
    with translation.override(requester.language or settings.LANGUAGE_CODE):
        expectation = _expectation(ticket)
    messages = [Message(P.CREATED, [requester], {"expectation": expectation})]
    if ticket.assignee is not None:
        messages.append(Message(P.ASSIGNED, [ticket.assignee]))
    return messages


# What a requester may expect of a new ticket, in plain words: the SLA's answer, which sits above
# notifications; set by palier.events.wire() from REQUESTER_EXPECTATION.
expectation_provider: list[Callable[[Ticket], list[str]]] = []


def _expectation(ticket: Ticket) -> list[str]:
    """What the requester may expect, in the active language (nothing when no provider is wired)."""
    return expectation_provider[0](ticket) if expectation_provider else []


def _on_comment(event: TicketEvent, ticket: Ticket) -> list[Message]:
    comment_id = (event.data or {}).get("comment")
    comment = Comment.objects.select_related("author").filter(pk=comment_id).first() if comment_id else None
    if comment is None:
        return []
    context = {"comment": comment.body[:EXCERPT], "author": comment.author.display_name}
    messages: list[Message] = []
    if not comment.is_internal:
        if comment.author_id == ticket.requester_id:
            readers = [ticket.assignee] if ticket.assignee is not None else []
        else:
            readers = [ticket.requester, *ticket.watchers.filter(is_active=True)]
        messages.append(Message(P.REPLY, readers, context))
    mentioned = mentions(comment.body, agents_only=comment.is_internal)
    if mentioned:
        messages.append(Message(P.MENTION, mentioned, {**context, "internal": comment.is_internal}))
    return messages


def mentions(text: str, *, agents_only: bool) -> list[User]:
    """Users named ``@email`` or ``@local-part`` (a local part shared by two users names nobody)."""
    tokens = {token.rstrip(".").lower() for token in _MENTION.findall(text)}
    if not tokens:
        return []
    query = Q()
    for token in tokens:
        query |= Q(email__iexact=token) if "@" in token else Q(email__istartswith=f"{token}@")
    users = list(User.objects.filter(query, is_active=True))
    by_local: dict[str, list[User]] = {}
    for user in users:
        by_local.setdefault(user.email.lower().partition("@")[0], []).append(user)
    found = [u for u in users if u.email.lower() in tokens]
    for token in tokens:
        if "@" not in token and len(by_local.get(token, [])) == 1:
            found.append(by_local[token][0])
    unique = {u.pk: u for u in found if u.is_agent or not agents_only}
    return list(unique.values())


def _audience(event: TicketEvent, ticket: Ticket, users: list[User]) -> list[User]:
    """Drop the author, inactive users, duplicates, and anyone who may not read the ticket; internal
    events and notes reach agents only."""
    from palier.tickets import permissions

    internal = event.is_internal or event.kind == E.NOTED
    receipt = event.kind == E.CREATED
    action: permissions.Action = "view_internal" if internal else "view"
    chosen: dict[int, User] = {}
    for user in users:
        if user is None or not user.is_active or user.pk in chosen:
            continue
        if user.pk == event.actor_id and not (receipt and user.pk == ticket.requester_id):
            continue
        if internal and not user.is_agent:
            continue
        if user.pk != ticket.requester_id and not permissions.can(user, action, ticket):
            continue
        chosen[user.pk] = user
    return list(chosen.values())


def _send(event: TicketEvent, ticket: Ticket, message: Message, users: list[User]) -> int:
    key = event_key(event.pk, message.purpose)
    in_app, by_mail = channels_for(users, event=message.purpose)
    in_app = [u for u in in_app if u.pk != event.actor_id]
    # same key as routing's in-app row for the group's manager: a manager who is also a member gets one
    notify(in_app, kind=message.purpose, ticket=ticket, key=key, reference=ticket.reference, subject=ticket.subject)
    if message.purpose == P.CREATED:
        acknowledge = mail_selectors.acknowledgement_allowed(ticket)  # not to unverified strangers
        by_mail = [u for u in by_mail if acknowledge and _ack_allowed(u.email)]
    context = {**message.context, "actor": event.actor.display_name if event.actor else "", "event": event}
    return email.queue_templated(
        to=by_mail, template=f"notifications/email/{message.purpose}", context=context, ticket=ticket, key=key
    )


def _ack_allowed(address: str) -> bool:
    since = timezone.now() - ACK_WINDOW
    recent = OutgoingEmail.objects.filter(
        address=address.lower(), key__endswith=f":{P.CREATED}", created_at__gte=since
    ).count()
    if recent >= ACK_LIMIT:
        log.warning("acknowledgement to %s skipped: %s already sent in the last hour", address, recent)
        return False
    return True


def _status_label(status: str) -> Any:
    """The label, translated when the email is rendered (in the recipient's language)."""
    try:
        return Ticket.Status(status).label
    except ValueError:
        return status
