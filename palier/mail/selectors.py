"""Reads of the mail intake: the admin pages (admins only: the views are guarded by
``admin_required``) and the quoted text of emailed comments on ticket pages."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from palier.mail.models import InboundMessage, Mailbox
from palier.people.models import User
from palier.tickets.models import Ticket

MAILBOXES_PER_PAGE = 50


def quarantine(limit: int = 200) -> QuerySet[InboundMessage]:
    return (
        InboundMessage.objects.filter(state=InboundMessage.State.QUARANTINED)
        .select_related("mailbox")
        .defer("raw", "full_text", "reply_text")
        .order_by("-created_at", "-pk")[:limit]
    )


def quarantined(*, mailbox: int | None = None) -> QuerySet[InboundMessage]:
    """The quarantined messages without their bodies (the API pages through them, newest first)."""
    rows = InboundMessage.objects.filter(state=InboundMessage.State.QUARANTINED).only(
        "pk", "mailbox_id", "sender", "subject", "error", "attempts", "sender_auth", "created_at"
    )
    return rows if mailbox is None else rows.filter(mailbox_id=mailbox)


def mailboxes() -> QuerySet[Mailbox]:
    return Mailbox.objects.select_related("target_group").order_by("name")


def mailbox_page(number: str | None) -> Page[Mailbox]:
    return Paginator(mailboxes(), MAILBOXES_PER_PAGE).get_page(number)


def get_mailbox(mailbox_id: int) -> Mailbox:
    mailbox = Mailbox.objects.select_related("target_group").filter(pk=mailbox_id).first()
    if mailbox is None:
        raise Http404(_("Mailbox not found."))
    return mailbox


def acknowledgement_allowed(ticket: Ticket) -> bool:
    """May the opening of ``ticket`` be acknowledged by email? No when a message opened it from a
    sender who is neither verified nor from the mailbox's allowed domains (``services._may_acknowledge``)."""
    return not InboundMessage.objects.filter(ticket=ticket, opened_ticket=True, acknowledge=False).exists()


def email_quotes(*, ticket: Ticket, user: User) -> dict[Any, str]:
    """For "show quoted text": the full text of each message that came by email on this ticket and
    has more than its reply, keyed by comment id (``"description"`` for
    the opening message). Agents who see the ticket get all of them; a requester only their own
    public comments and the description of their own ticket. The caller already checked that the
    reader may see the ticket."""
    rows = InboundMessage.objects.filter(ticket=ticket, state=InboundMessage.State.PROCESSED)
    if not user.is_agent:
        own = Q(comment__author=user, comment__is_internal=False)
        if ticket.requester_id == user.pk:
            own |= Q(comment__isnull=True)
        rows = rows.filter(own)
    quotes: dict[Any, str] = {}
    for full_text, reply_text, comment_id in rows.values_list("full_text", "reply_text", "comment_id"):
        if not full_text.strip() or full_text.strip() == (reply_text or "").strip():
            continue  # nothing was quoted
        if comment_id is None:
            quotes.setdefault("description", full_text)
        else:
            quotes[comment_id] = full_text
    return quotes
