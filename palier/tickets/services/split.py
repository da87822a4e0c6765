"""Splitting a ticket: one message (and its files) moves out into a new ticket linked to the
original (docs/merge-split.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied
from palier.people.models import User
from palier.tickets import history, permissions, search
from palier.tickets.models import Attachment, Comment, Ticket, TicketLink
from palier.tickets.services._common import MAX_SUBJECT, E, _clean_text, _lock, _touch
from palier.tickets.services.lifecycle import open_ticket


def _check_split(ticket: Ticket, comment_id: int, *, by: User) -> Comment:
    if not permissions.can(by, "view", ticket):
        raise NotFound(_("Ticket not found."))
    if not permissions.can(by, "update", ticket, seen=True):
        raise PermissionDenied(_("You cannot change this ticket."))
    if ticket.merged_into_id is not None:
        raise IllegalTransition(_("A merged ticket cannot be split; split the ticket it was merged into."))
    comment = Comment.objects.select_related("author").filter(pk=comment_id, ticket_id=ticket.pk).first()
    if comment is None:
        raise ValidationError(
            {"comment": _("This message is not part of the ticket (the description cannot be split).")}
        )
    if (
        not ticket.description.strip()
        and not Comment.objects.filter(ticket_id=ticket.pk).exclude(pk=comment.pk).exists()
    ):
        raise ValidationError(
            {"comment": _("This message is all the ticket holds: nothing would be left to split from.")}
        )
    return comment


@transaction.atomic
def split_ticket(ticket: Ticket, *, comment: int, by: User, subject: str = "") -> Ticket:
    """Move the message ``comment`` (an id) and its files out of ``ticket`` into a new ticket,
    linked to ``ticket`` ("related to"). The new ticket keeps the original's type, category,
    impact, urgency and group; its requester is the message's author unless an agent wrote it
    (then the original's requester). ``subject`` defaults to the original's. Returns the new ticket."""
    moved = _check_split(ticket, comment, by=by)
    subject = _clean_text(subject or ticket.subject, field="subject", maximum=MAX_SUBJECT, required=True)
    ticket = _lock(ticket, None)
    author = moved.author
    requester = author if not author.is_agent and author.is_active else ticket.requester
    category = ticket.category if ticket.category is not None and ticket.category.is_active else None
    new = open_ticket(
        by=by,
        requester=requester,
        subject=subject,
        kind=ticket.kind,
        category=category,
        impact=ticket.impact,
        urgency=ticket.urgency,
        channel=moved.channel,
        group=ticket.group,
    )
    Comment.objects.filter(pk=moved.pk).update(ticket=new)
    Attachment.objects.filter(comment_id=moved.pk).update(ticket=new)
    search.move_comments([moved.pk], ticket_id=new.pk)
    TicketLink.objects.create(source=ticket, target=new, kind=TicketLink.Kind.RELATED, created_by=by)
    history.record_many(
        [
            history.build(ticket, E.SPLIT, by=by, other=new.reference, direction="out", comment=moved.pk),
            history.build(new, E.SPLIT, by=by, other=ticket.reference, direction="in", comment=moved.pk),
        ]
    )
    _touch(ticket, [])
    return new
