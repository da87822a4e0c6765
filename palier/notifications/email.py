"""Outgoing email: an outbox row per recipient, sent after commit by a background job with retries.

``queue_email`` and ``queue_templated`` store the rows in the caller's transaction (unique per
(key, address): calling twice with the same key adds nothing) and queue one ``send_email_task`` per
new row once the transaction commits. ``send_pending`` (a periodic job) sends whatever is due:
rows whose job never ran, and retries. A row is claimed with a conditional UPDATE before it is
sent, so two workers never send the same mail. A failed attempt is retried after 1, 5, 15, 60 and
240 minutes; after the sixth attempt the row is marked failed (visible in the outbox).

Headers: our own Message-ID on the desk's domain, In-Reply-To/References from the ticket's thread
(its first and latest known Message-IDs), the ticket tag ``[INC-1042]`` in the subject, From and
Reply-To the mailbox the ticket came in through (else the first active mailbox, else
``DEFAULT_FROM_EMAIL``); automatic mail carries ``Auto-Submitted: auto-generated`` and
``X-Auto-Response-Suppress: All``. Nothing is ever sent to ``.invalid`` addresses, to the desk's
own mailboxes or to inactive users.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid, parseaddr
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from palier.notifications.models import OutgoingEmail
from palier.people.models import User

if TYPE_CHECKING:
    from palier.tickets.models import Ticket

log = logging.getLogger(__name__)

BACKOFF_MINUTES = (1, 5, 15, 60, 240)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
STALE_CLAIM = timedelta(minutes=10)  # a worker that died while sending: the row is queued again
SEND_BATCH = 100
S = OutgoingEmail.State


# --- addresses and headers ---------------------------------------------------------------------------


def base_url() -> str:
    return str(getattr(settings, "PALIER_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")


def ticket_url(ticket: Ticket, user: User | None) -> str:
    """The ticket's page for this reader: the agent workspace for agents, the portal otherwise."""
    name = "agent:ticket-detail" if user is not None and user.is_agent else "portal:ticket-detail"
    return base_url() + reverse(name, args=[ticket.pk])


def _desk_addresses() -> set[str]:
    from palier.mail.models import Mailbox

    return {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}


def sender_address(ticket: Ticket | None) -> str:
    """The mailbox the ticket came in through, else the first active mailbox, else the default."""
    from palier.mail.models import InboundMessage, Mailbox

    if ticket is not None:
        first = (
            InboundMessage.objects.filter(ticket=ticket, mailbox__isnull=False)
            .order_by("created_at", "pk")
            .values_list("mailbox__address", flat=True)
            .first()
        )
        if first:
            return first
    mailbox = Mailbox.objects.filter(is_active=True).order_by("pk").values_list("address", flat=True).first()
    return mailbox or settings.DEFAULT_FROM_EMAIL


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "palier.localhost"


def thread_headers(ticket: Ticket | None) -> tuple[str, str]:
    """(In-Reply-To, References) from the ticket's first and latest known Message-IDs."""
    if ticket is None:
        return "", ""
    from palier.mail.models import MessageRecord

    records = MessageRecord.objects.filter(ticket=ticket).order_by("created_at", "pk")
    first = records.values_list("message_id", flat=True).first()
    latest = records.reverse().values_list("message_id", flat=True).first()
    if not first or not latest:
        return "", ""
    ids = [first] if first == latest else [first, latest]
    return f"<{latest}>", " ".join(f"<{mid}>" for mid in ids)


def tagged_subject(subject: str, ticket: Ticket | None) -> str:
    subject = " ".join(subject.split())  # no header injection, no folded lines
    if ticket is None:
        return subject
    tag = f"[{ticket.reference}]"
    return subject if tag.lower() in subject.lower() else f"{tag} {subject}"


def _recipients(to: Sequence[User | str], blocked: set[str]) -> list[tuple[str, User | None]]:
    found: list[tuple[str, User | None]] = []
    seen: set[str] = set()
    for item in to:
        user = item if isinstance(item, User) else None
        if user is not None and not user.is_active:
            continue
        address = (user.email if user is not None else parseaddr(str(item))[1]).strip()
        lowered = address.lower()
        if not address or "@" not in address or lowered in seen or lowered in blocked:
            continue
        if lowered.endswith(".invalid"):
            continue
        seen.add(lowered)
        found.append((lowered, user))  # one spelling per address, so the (key, address) guard holds
    return found


# --- queue --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Envelope:
    sender: str
    in_reply_to: str
    references: str


def _envelope(ticket: Ticket | None, *, reply_to_thread: bool) -> _Envelope:
    in_reply_to, references = thread_headers(ticket) if reply_to_thread else ("", "")
    return _Envelope(sender_address(ticket), in_reply_to, references)


def _new_recipients(to: Sequence[User | str], key: str) -> list[tuple[str, User | None]]:
    """Who may receive this mail and has no row under ``key`` yet."""
    recipients = _recipients(to, _desk_addresses())
    if not recipients:
        return []
    addresses = [address for address, _user in recipients]
    existing = set(OutgoingEmail.objects.filter(key=key, address__in=addresses).values_list("address", flat=True))
    return [(address, user) for address, user in recipients if address not in existing]


@dataclass(frozen=True)
class _Content:
    subject: str
    text: str
    html: str
    ticket: Ticket | None
    key: str
    automatic: bool


def _row(address: str, user: User | None, envelope: _Envelope, content: _Content) -> OutgoingEmail:
    return OutgoingEmail(
        address=address, recipient=user, from_address=envelope.sender,
        subject=tagged_subject(content.subject, content.ticket)[:998], text=content.text, html=content.html,
        ticket=content.ticket, key=content.key[:200], automatic=content.automatic,
        message_id=make_msgid(domain=_domain(envelope.sender)).strip("<>"),
        in_reply_to=envelope.in_reply_to, references=envelope.references,
    )  # fmt: skip


def _store(rows: list[OutgoingEmail]) -> int:
    """Insert the rows (a concurrent duplicate is ignored) and queue their sending after commit."""
    if not rows:
        return 0
    OutgoingEmail.objects.bulk_create(rows, ignore_conflicts=True)
    message_ids = [row.message_id for row in rows]
    transaction.on_commit(lambda: _enqueue(message_ids))
    return len(rows)


def queue_email(
    *,
    to: Sequence[User | str],
    subject: str,
    text: str,
    html: str = "",
    ticket: Ticket | None = None,
    key: str,
    automatic: bool = True,
    reply_to_thread: bool = True,
) -> int:
    """Store one outbox row per recipient and send them after commit. Returns how many rows were
    added (a repeated call with the same key adds nothing)."""
    recipients = _new_recipients(to, key)
    if not recipients:
        return 0
    envelope = _envelope(ticket, reply_to_thread=reply_to_thread)
    content = _Content(subject, text, html, ticket, key, automatic)
    return _store([_row(address, user, envelope, content) for address, user in recipients])


def _enqueue(message_ids: list[str]) -> None:
    from palier.notifications.tasks import send_email_task

    ids = OutgoingEmail.objects.filter(message_id__in=message_ids, state=S.QUEUED).values_list("pk", flat=True)
    for pk in ids:
        try:
            send_email_task.enqueue(pk)
        except Exception:  # the queue is down: the periodic send_pending catches up
            log.exception("could not queue outgoing email %s", pk)


def render_for(user: User, *, template: str, context: dict[str, Any], ticket: Ticket | None) -> tuple[str, str, str]:
    """(subject, text, html) of ``template`` in the user's language."""
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        full = {**context, "recipient": user, "ticket": ticket, "base_url": base_url()}
        if ticket is not None:
            full.setdefault("ticket_url", ticket_url(ticket, user))
        subject = render_to_string(f"{template}_subject.txt", full).strip()
        text = render_to_string(f"{template}.txt", full)
        html = render_to_string(f"{template}.html", full)
    return subject, text, html


def queue_templated(
    *,
    to: Sequence[User],
    template: str,
    context: dict[str, Any],
    ticket: Ticket | None = None,
    key: str,
    automatic: bool = True,
) -> int:
    """Render ``<template>_subject.txt``, ``<template>.txt`` and ``<template>.html`` in each
    recipient's language (with ``recipient``, ``ticket`` and ``ticket_url`` added to the context)
    and queue them. Returns how many rows were added. A constant number of queries, whatever the
    number of recipients."""
    recipients = _new_recipients(list(to), key)
    if not recipients:
        return 0
    envelope = _envelope(ticket, reply_to_thread=True)
    rows = []
    for address, user in recipients:
        assert user is not None
        subject, text, html = render_for(user, template=template, context=context, ticket=ticket)
        rows.append(_row(address, user, envelope, _Content(subject, text, html, ticket, key, automatic)))
    return _store(rows)


# --- send ---------------------------------------------------------------------------------------------


def _claim(outgoing_id: int, now: Any) -> bool:
    due = Q(state=S.QUEUED, next_attempt_at__lte=now) | Q(state=S.SENDING, claimed_at__lt=now - STALE_CLAIM)
    claimed = OutgoingEmail.objects.filter(due, pk=outgoing_id).update(
        state=S.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    return bool(claimed)


def build_message(row: OutgoingEmail) -> EmailMultiAlternatives:
    headers = {"Message-ID": f"<{row.message_id}>"}
    if row.in_reply_to:
        headers["In-Reply-To"] = row.in_reply_to
    if row.references:
        headers["References"] = row.references
    if row.automatic:
        headers["Auto-Submitted"] = "auto-generated"
        headers["X-Auto-Response-Suppress"] = "All"
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.text, from_email=row.from_address, to=[row.address],
        reply_to=[row.from_address], headers=headers,
    )  # fmt: skip
    if row.html:
        message.attach_alternative(row.html, "text/html")
    return message


def send_one(outgoing_id: int) -> str:
    """Send one row if it is due and nobody else is sending it. Returns its state afterwards."""
    now = timezone.now()
    if not _claim(outgoing_id, now):
        return str(OutgoingEmail.objects.filter(pk=outgoing_id).values_list("state", flat=True).first() or "")
    row = OutgoingEmail.objects.select_related("ticket").get(pk=outgoing_id)
    try:
        build_message(row).send(fail_silently=False)
    except Exception as exc:
        return _failed(row, exc, now)
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=row.pk).update(state=S.SENT, sent_at=timezone.now(), last_error="")
        if row.ticket is not None:
            from palier.mail.services import record_outgoing

            record_outgoing(row.message_id, row.ticket, address=row.address)
    return str(S.SENT)


def _failed(row: OutgoingEmail, exc: Exception, now: Any) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        state, next_at = S.FAILED, now
        log.error("giving up on outgoing email %s to %s: %s", row.pk, row.address, error)
    else:
        state, next_at = S.QUEUED, now + timedelta(minutes=BACKOFF_MINUTES[max(row.attempts - 1, 0)])
        log.warning("outgoing email %s to %s failed (attempt %s): %s", row.pk, row.address, row.attempts, error)
    OutgoingEmail.objects.filter(pk=row.pk).update(state=state, next_attempt_at=next_at, last_error=error)
    return str(state)


def send_pending(*, limit: int = SEND_BATCH) -> int:
    """Send every due row (first attempts whose job was lost, and retries). Returns how many were sent."""
    now = timezone.now()
    due = Q(state=S.QUEUED, next_attempt_at__lte=now) | Q(state=S.SENDING, claimed_at__lt=now - STALE_CLAIM)
    ids = list(OutgoingEmail.objects.filter(due).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(1 for pk in ids if send_one(pk) == S.SENT)


def queue_vendor_email(*, ticket: Ticket, context: dict[str, Any], key: str) -> int:
    """Email a vendor group's contacts about a ticket (in the desk's language, not automatic so the
    vendor's own desk does not drop it; their reply threads back to the ticket)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("notifications/email/vendor_subject.txt", context).strip()
        text = render_to_string("notifications/email/vendor.txt", context)
        html = render_to_string("notifications/email/vendor.html", {**context, "ticket": ticket})
    to: list[User | str] = list(context.get("to") or [])
    return queue_email(to=to, subject=subject, text=text, html=html, ticket=ticket, key=key, automatic=False)
