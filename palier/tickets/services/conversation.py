"""Replies, internal notes, attachments, watchers and links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib import antivirus, files
from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied
from palier.people.models import User
from palier.tickets import history, hooks, permissions, search
from palier.tickets.models import (
    Attachment,
    Comment,
    Ticket,
    TicketLink,
)
from palier.tickets.services._common import (
    MAX_BODY,
    E,
    S,
    _check_choice,
    _clean_text,
    _lock,
    _touch,
)

# --- conversation -------------------------------------------------------------------------------------


@transaction.atomic
def comment_on_ticket(
    ticket: Ticket,
    *,
    by: User,
    body: str,
    internal: bool = False,
    channel: str = Ticket.Channel.WEB,
    uploads: Sequence[IO[bytes]] = (),
    expected_version: int | None = None,
) -> Comment:
    """Add a public reply or an internal note, with optional attachments.

    ``expected_version`` (the version the author saw) refuses the comment with ``StaleVersion``
    when the ticket changed meanwhile; None does not check.
    """
    if not permissions.can(by, "note" if internal else "comment", ticket):
        if not internal and ticket.status in (S.CLOSED, S.CANCELLED):
            raise IllegalTransition(_("This ticket is closed; open a new ticket instead."))
        raise PermissionDenied(_("You cannot comment on this ticket."))
    body = _clean_text(body, field="body", maximum=MAX_BODY, required=True)
    _check_choice(channel, Ticket.Channel.values, "channel")
    ticket = _lock(ticket, expected_version)
    now = timezone.now()
    comment = Comment.objects.create(
        ticket=ticket, author=by, body=body, is_internal=internal, channel=channel, created_at=now
    )
    for upload in uploads:
        add_attachment(ticket, by=by, upload=upload, comment=comment)
    history.record(ticket, E.NOTED if internal else E.COMMENTED, by=by, internal=internal, comment=comment.pk)
    fields: list[str] = []
    old: dict[str, object] = {}
    if not internal and by.is_agent and by.pk != ticket.requester_id and ticket.first_response_at is None:
        old["first_response_at"] = None
        ticket.first_response_at = now
        fields.append("first_response_at")
    if not internal and by.pk == ticket.requester_id and ticket.status == S.PENDING_REQUESTER:
        history.record(ticket, E.STATUS, by=by, old=ticket.status, new=S.IN_PROGRESS, reason="requester-replied")
        old["status"] = ticket.status
        ticket.status = S.IN_PROGRESS
        fields.append("status")
    _touch(ticket, fields, now)
    if not internal:
        old["_reply_by"] = by  # a public reply: the next-response clock restarts
    hooks.run_after_change(ticket, old)
    search.index_comment(ticket_id=ticket.pk, comment_id=comment.pk, body=body, is_internal=internal)
    return comment


@transaction.atomic
def record_reply(ticket: Ticket, *, author: User, body: str) -> Comment:
    """A public reply in ``author``'s name, written by a process that authorised it itself (an
    approver's rejection reason: approvers usually cannot see the ticket, so ``comment_on_ticket``
    would refuse them). The ticket is not locked or touched: the process changes it next (the
    rejection closes the request), which bumps the version and runs the hooks."""
    comment = Comment.objects.create(ticket=ticket, author=author, body=body, is_internal=False)
    history.record(ticket, E.COMMENTED, by=author, comment=comment.pk)
    search.index_comment(ticket_id=ticket.pk, comment_id=comment.pk, body=body, is_internal=False)
    return comment


@transaction.atomic
def add_attachment(ticket: Ticket, *, by: User, upload: IO[bytes], comment: Comment | None = None) -> Attachment:
    """Store an uploaded file: size-limited, type sniffed from its bytes, name sanitised, scanned
    for viruses. An infected file is refused, except from mail (``files.QuarantineUpload``): then
    the row records the virus and no byte of the file is stored (the raw message keeps it)."""
    internal = comment.is_internal if comment is not None else False
    if not permissions.can(by, "attach", ticket):
        raise PermissionDenied(_("You cannot attach files to this ticket."))
    checked = files.read_upload(upload, quarantine=isinstance(upload, files.QuarantineUpload))
    attachment = Attachment(
        ticket=ticket,
        comment=comment,
        filename=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        is_internal=internal,
        uploaded_by=by,
        **scan_fields(checked.scan),
    )
    if checked.infected:
        attachment.save()
    else:
        stored_name = uuid.uuid4().hex
        attachment.file.save(stored_name, File(upload, name=stored_name), save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.delete(save=False)
            raise
    if comment is None:
        history.record(ticket, E.ATTACHED, by=by, internal=internal, attachment=attachment.pk, filename=checked.name)
        _touch(ticket, [])
    return attachment


def scan_fields(verdict: antivirus.Verdict) -> dict[str, Any]:
    """The scan columns of an attachment row (tickets and knowledge base)."""
    scanned_at = None if verdict.status == antivirus.UNSCANNED else timezone.now()
    return {"scan_status": verdict.status, "scan_signature": verdict.signature, "scanned_at": scanned_at}


@transaction.atomic
def record_attachment_scan(attachment: Attachment, verdict: antivirus.Verdict) -> Attachment:
    """Record the scan of a file stored before scanning was on (done when it is first served)."""
    if verdict.status == antivirus.UNSCANNED:
        return attachment
    for field, value in scan_fields(verdict).items():
        setattr(attachment, field, value)
    attachment.save(update_fields=["scan_status", "scan_signature", "scanned_at"])
    return attachment


# --- watchers and links ------------------------------------------------------------------------------


@transaction.atomic
def add_watcher(ticket: Ticket, *, user: User, by: User, expected_version: int | None = None) -> Ticket:
    if not permissions.can(by, "watch", ticket) or (not permissions.works_on(by, ticket) and by.pk != user.pk):
        raise PermissionDenied(_("You cannot change the watchers of this ticket."))
    if not user.is_active:
        raise ValidationError({"user": _("This account is deactivated.")})
    ticket = _lock(ticket, expected_version)
    if not ticket.watchers.filter(pk=user.pk).exists():
        ticket.watchers.add(user)
        history.record(ticket, E.WATCHED, by=by, internal=True, user=user.display_name)
        _touch(ticket, [])
    return ticket


@transaction.atomic
def remove_watcher(ticket: Ticket, *, user: User, by: User, expected_version: int | None = None) -> Ticket:
    if not permissions.can(by, "watch", ticket) or (not permissions.works_on(by, ticket) and by.pk != user.pk):
        raise PermissionDenied(_("You cannot change the watchers of this ticket."))
    ticket = _lock(ticket, expected_version)
    if ticket.watchers.filter(pk=user.pk).exists():
        ticket.watchers.remove(user)
        history.record(ticket, E.UNWATCHED, by=by, internal=True, user=user.display_name)
        _touch(ticket, [])
    return ticket


@transaction.atomic
def link_tickets(
    source: Ticket, *, target: Ticket, kind: str, by: User, expected_version: int | None = None
) -> TicketLink:
    """Link two tickets the agent can both see (parent of, related to, duplicate of).

    ``expected_version`` is the version of ``source`` the agent saw (None: no check)."""
    _check_choice(kind, TicketLink.Kind.values, "kind")
    if not (permissions.can(by, "link", source) and permissions.can(by, "view", target)):
        raise NotFound(_("Ticket not found."))
    if source.pk == target.pk:
        raise ValidationError({"target": _("A ticket cannot be linked to itself.")})
    if expected_version is not None:
        _lock(source, expected_version)
    if (
        kind == TicketLink.Kind.PARENT
        and TicketLink.objects.filter(source=target, target=source, kind=TicketLink.Kind.PARENT).exists()
    ):
        raise ValidationError({"target": _("This ticket is already the parent of the other one.")})
    link, created = TicketLink.objects.get_or_create(
        source=source, target=target, kind=kind, defaults={"created_by": by}
    )
    if created:
        for ticket, other in ((source, target), (target, source)):
            locked = _lock(ticket, None)
            history.record(
                locked,
                E.LINKED,
                by=by,
                internal=True,
                link=kind,
                other=other.reference,
                direction="out" if ticket is source else "in",
            )
            _touch(locked, [])
    return link


@transaction.atomic
def link_task(parent: Ticket, *, child: Ticket) -> TicketLink:
    """Make ``child`` (a fulfilment task opened for ``parent``) a child of ``parent``, recorded on
    the child (the caller records what the parent's history says about its task)."""
    link, _created = TicketLink.objects.get_or_create(source=parent, target=child, kind=TicketLink.Kind.PARENT)
    history.record(child, E.LINKED, by=None, internal=True, link="parent", other=parent.reference, direction="in")
    return link


@transaction.atomic
def unlink_tickets(link: TicketLink, *, by: User) -> None:
    if not permissions.can(by, "link", link.source):
        raise NotFound(_("Ticket not found."))
    for ticket, other in ((link.source, link.target), (link.target, link.source)):
        locked = _lock(ticket, None)
        history.record(locked, E.UNLINKED, by=by, internal=True, link=link.kind, other=other.reference)
        _touch(locked, [])
    link.delete()
