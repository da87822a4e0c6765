"""Writes for tickets. Every change locks the ticket, checks the rules, bumps its version and
appends a ``TicketEvent`` in the same transaction."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion
from palier.people.models import SupportGroup, User
from palier.tickets import files, history, permissions, search
from palier.tickets.models import (
    Attachment,
    Category,
    Comment,
    Level,
    PriorityRule,
    SavedFilter,
    Tag,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketLink,
    TicketViewer,
)
from palier.tickets.rules import DEFAULT_MATRIX, allowed_targets, is_reopen

S = Ticket.Status
E = TicketEvent.Kind
MAX_SUBJECT = 250
MAX_BODY = 100_000
MAX_TAGS = 20


# --- helpers ----------------------------------------------------------------------------------


def priority_for(impact: str, urgency: str) -> int:
    rule = PriorityRule.objects.filter(impact=impact, urgency=urgency).values_list("priority", flat=True).first()
    return int(rule) if rule is not None else DEFAULT_MATRIX[(impact, urgency)]


def next_number(kind: str) -> int:
    """A number unique per kind, also under concurrent creation.

    PostgreSQL uses one sequence per kind (no lock held until commit; a rolled-back creation
    leaves a gap). SQLite serialises writers, so a counter row is enough there.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(%s)", [f"tickets_number_{kind}_seq"])
            return int(cursor.fetchone()[0])
    sql = "UPDATE tickets_ticketcounter SET last = last + 1 WHERE kind = %s RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind])
        row = cursor.fetchone()
        if row is None:  # first ticket of this kind
            TicketCounter.objects.get_or_create(kind=kind, defaults={"last": 0})
            cursor.execute(sql, [kind])
            row = cursor.fetchone()
    return int(row[0])


def _clean_text(value: str, *, field: str, maximum: int, required: bool) -> str:
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")})
    if len(value) > maximum:
        raise ValidationError({field: _("At most %(n)d characters.") % {"n": maximum}})
    return value


def _check_choice(value: str, choices: Iterable[str], field: str) -> None:
    if value not in choices:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


def _clean_tags(names: Iterable[str]) -> list[str]:
    cleaned = sorted({n.strip().lower()[:50] for n in names if n and n.strip()})
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("At most %(n)d tags.") % {"n": MAX_TAGS}})
    return cleaned


def _check_assignee(assignee: User | None, group: SupportGroup | None) -> None:
    if assignee is None:
        return
    if not assignee.is_agent or not assignee.is_active:
        raise ValidationError({"assignee": _("Tickets can only be assigned to active agents.")})
    if group is not None and not group.members.filter(pk=assignee.pk).exists():
        raise ValidationError({"assignee": _("The assignee is not a member of the ticket's group.")})


def _lock(ticket: Ticket, expected_version: int | None) -> Ticket:
    """Re-read the ticket under a row lock and check the version the caller saw."""
    locked = Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    if locked is None:
        raise NotFound(_("Ticket not found."))
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            _("The ticket was changed by someone else (version %(now)d, you saw %(seen)d). Reload it and try again.")
            % {"now": locked.version, "seen": expected_version}
        )
    return locked


def _touch(ticket: Ticket, fields: list[str], now: datetime | None = None) -> None:
    ticket.updated_at = now or timezone.now()
    ticket.version += 1
    ticket.save(update_fields=[*fields, "updated_at", "version"])


def _set_tags(ticket: Ticket, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    ticket.tags.set(list(existing.values()))


# --- creation --------------------------------------------------------------------------------------


@transaction.atomic
def open_ticket(
    *,
    requester: User,
    subject: str,
    description: str = "",
    kind: str = Ticket.Kind.INCIDENT,
    category: Category | None = None,
    impact: str = Level.LOW,
    urgency: str = Level.LOW,
    channel: str = Ticket.Channel.WEB,
    group: SupportGroup | None = None,
    assignee: User | None = None,
    tags: Sequence[str] = (),
    watchers: Sequence[User] = (),
    by: User | None,
) -> Ticket:
    """Open an incident or service request. ``by`` is None for system channels."""
    if by is not None and not by.is_agent:
        if requester.pk != by.pk:
            raise PermissionDenied(_("You can only open tickets for yourself."))
        if group is not None or assignee is not None:
            raise PermissionDenied(_("Only agents can choose the group or the assignee."))
    subject = _clean_text(subject, field="subject", maximum=MAX_SUBJECT, required=True)
    description = _clean_text(description, field="description", maximum=MAX_BODY, required=False)
    _check_choice(kind, Ticket.Kind.values, "kind")
    _check_choice(impact, Level.values, "impact")
    _check_choice(urgency, Level.values, "urgency")
    _check_choice(channel, Ticket.Channel.values, "channel")
    if category is not None and not category.is_active:
        raise ValidationError({"category": _("This category is no longer in use.")})
    if not requester.is_active:
        raise ValidationError({"requester": _("This account is deactivated.")})
    tag_names = _clean_tags(tags)
    if group is None:
        group = SupportGroup.objects.filter(is_triage=True).first()
    _check_assignee(assignee, group)
    now = timezone.now()
    ticket = Ticket.objects.create(
        kind=kind,
        number=next_number(kind),
        subject=subject,
        description=description,
        requester=requester,
        organisation_id=requester.organisation_id,
        category=category,
        impact=impact,
        urgency=urgency,
        priority=priority_for(impact, urgency),
        status=S.ASSIGNED if assignee else S.NEW,
        group=group,
        assignee=assignee,
        channel=channel,
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    if tag_names:
        _set_tags(ticket, tag_names)
    if watchers:
        ticket.watchers.add(*watchers)
    history.record(
        ticket,
        E.CREATED,
        by=by,
        reference=ticket.reference,
        status=ticket.status,
        priority=ticket.priority,
        channel=channel,
        group=group.name if group else None,
        assignee=assignee.display_name if assignee else None,
    )
    search.index_ticket_text(ticket_id=ticket.pk, subject=subject, description=description, new=True)
    return ticket


# --- field updates ------------------------------------------------------------------------------------

UPDATABLE = {"subject", "description", "kind", "category", "impact", "urgency", "group", "assignee", "tags"}


def _display(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, User):
        return value.display_name
    if isinstance(value, SupportGroup):
        return value.name
    if isinstance(value, Category):
        return {"en": value.name_en, "fr": value.name_fr}
    return str(value)


def _validate_changes(ticket: Ticket, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in sorted(unknown)})
    cleaned = dict(changes)
    if "subject" in cleaned:
        cleaned["subject"] = _clean_text(cleaned["subject"], field="subject", maximum=MAX_SUBJECT, required=True)
    if "description" in cleaned:
        cleaned["description"] = _clean_text(
            cleaned["description"], field="description", maximum=MAX_BODY, required=False
        )
    for name, choices in (("kind", Ticket.Kind.values), ("impact", Level.values), ("urgency", Level.values)):
        if name in cleaned:
            _check_choice(cleaned[name], choices, name)
    category = cleaned.get("category")
    if category is not None and not category.is_active and category.pk != ticket.category_id:
        raise ValidationError({"category": _("This category is no longer in use.")})
    if "tags" in cleaned:
        cleaned["tags"] = _clean_tags(cleaned["tags"])
    group = cleaned.get("group", ticket.group)
    if "assignee" in cleaned or "group" in cleaned:
        assignee = cleaned.get("assignee", ticket.assignee)
        if "group" in cleaned and "assignee" not in cleaned and assignee is not None:
            if group is None or not group.members.filter(pk=assignee.pk).exists():
                cleaned["assignee"] = None  # moving to another group releases the assignee
        else:
            _check_assignee(assignee, group)
    return cleaned


@transaction.atomic
def update_ticket(ticket: Ticket, *, by: User | None, expected_version: int | None, changes: dict[str, Any]) -> Ticket:
    """Change ticket fields (agents only). Records one event per changed field."""
    if by is not None and not permissions.can(by, "update", ticket):
        raise PermissionDenied(_("You cannot change this ticket."))
    ticket = _lock(ticket, expected_version)
    if not ticket.is_open and set(changes) - {"tags"}:
        raise IllegalTransition(_("A resolved, closed or cancelled ticket cannot be edited; reopen it first."))
    cleaned = _validate_changes(ticket, changes)
    if "tags" in cleaned:
        _apply_tags(ticket, cleaned.pop("tags"), by=by)
    changed = _apply_fields(ticket, cleaned, by=by)
    changed += _derive_priority_and_status(ticket, changed, by=by)
    if changed or "tags" in changes:
        _touch(ticket, changed)
    if {"subject", "description"} & set(changed):
        search.index_ticket_text(ticket_id=ticket.pk, subject=ticket.subject, description=ticket.description)
    return ticket


def _apply_tags(ticket: Ticket, new: list[str], *, by: User | None) -> None:
    old = sorted(ticket.tags.values_list("name", flat=True))
    if old != new:
        _set_tags(ticket, new)
        history.record(ticket, E.CHANGED, by=by, internal=True, field="tags", old=old, new=new)


def _apply_fields(ticket: Ticket, cleaned: dict[str, Any], *, by: User | None) -> list[str]:
    changed: list[str] = []
    for name, new in cleaned.items():
        old = getattr(ticket, name)
        if old == new:
            continue
        if name == "kind":
            old_reference = ticket.reference
            ticket.number = next_number(new)
            ticket.kind = new
            history.record(ticket, E.CHANGED, by=by, field="reference", old=old_reference, new=ticket.reference)
            changed.append("number")
        setattr(ticket, name, new)
        changed.append(name)
        internal = name in {"group", "assignee", "impact", "urgency", "category"}
        history.record(ticket, E.CHANGED, by=by, internal=internal, field=name, old=_display(old), new=_display(new))
    return changed


def _derive_priority_and_status(ticket: Ticket, changed: list[str], *, by: User | None) -> list[str]:
    derived: list[str] = []
    if {"impact", "urgency"} & set(changed):
        priority = priority_for(ticket.impact, ticket.urgency)
        if priority != ticket.priority:
            history.record(ticket, E.CHANGED, by=by, field="priority", old=ticket.priority, new=priority)
            ticket.priority = priority
            derived.append("priority")
    if "assignee" in changed:
        status = _status_after_assignment(ticket)
        if status != ticket.status:
            history.record(ticket, E.STATUS, by=by, old=ticket.status, new=status)
            ticket.status = status
            derived.append("status")
    return derived


def _status_after_assignment(ticket: Ticket) -> str:
    if ticket.assignee_id and ticket.status == S.NEW:
        return S.ASSIGNED
    if not ticket.assignee_id and ticket.status == S.ASSIGNED:
        return S.NEW
    return ticket.status


# --- status ---------------------------------------------------------------------------------------------


@transaction.atomic
def transition_ticket(
    ticket: Ticket, *, to: str, by: User | None, expected_version: int | None = None, note: str = ""
) -> Ticket:
    """Move a ticket to another status following the transition table."""
    if by is not None and not permissions.can(by, "transition", ticket):
        raise PermissionDenied(_("You cannot change the status of this ticket."))
    _check_choice(to, S.values, "status")
    ticket = _lock(ticket, expected_version)
    as_requester = by is not None and not by.is_agent
    if to not in allowed_targets(ticket.status, as_requester=as_requester):
        raise IllegalTransition(
            _("A ticket cannot go from “%(old)s” to “%(new)s”.") % {"old": S(ticket.status).label, "new": S(to).label},
            field="status",
        )
    now = timezone.now()
    if is_reopen(ticket.status, to):
        window = timedelta(days=settings.PALIER_REOPEN_DAYS)
        if ticket.resolved_at is not None and now - ticket.resolved_at > window:
            raise IllegalTransition(
                _("This ticket was resolved more than %(days)d days ago and can no longer be reopened; open a new one.")
                % {"days": settings.PALIER_REOPEN_DAYS},
                field="status",
            )
    if to == S.ASSIGNED and not ticket.assignee_id:
        raise ValidationError({"status": _("Choose an assignee before marking the ticket assigned.")})
    old = ticket.status
    ticket.status = to
    fields = ["status"]
    if to == S.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif is_reopen(old, to):
        ticket.resolved_at = None
        fields.append("resolved_at")
    if to in (S.CLOSED, S.CANCELLED):
        ticket.closed_at = now
        fields.append("closed_at")
    note = _clean_text(note, field="note", maximum=MAX_BODY, required=False)
    extra: dict[str, Any] = {"note": note} if note else {}
    history.record(ticket, E.STATUS, by=by, old=old, new=to, **extra)
    _touch(ticket, fields, now)
    return ticket


@transaction.atomic
def close_resolved_tickets(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close tickets resolved longer ago than the reopen window. Idempotent; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PALIER_REOPEN_DAYS)
    ids = list(Ticket.objects.filter(status=S.RESOLVED, resolved_at__lt=cutoff).values_list("pk", flat=True)[:batch])
    closed = 0
    for ticket in Ticket.objects.select_for_update().filter(pk__in=ids, status=S.RESOLVED):
        ticket.status = S.CLOSED
        ticket.closed_at = now
        history.record(ticket, E.STATUS, by=None, old=S.RESOLVED, new=S.CLOSED, reason="reopen-window-elapsed")
        _touch(ticket, ["status", "closed_at"], now)
        closed += 1
    return closed


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
    if not internal and by.is_agent and by.pk != ticket.requester_id and ticket.first_response_at is None:
        ticket.first_response_at = now
        fields.append("first_response_at")
    if not internal and by.pk == ticket.requester_id and ticket.status == S.PENDING_REQUESTER:
        history.record(ticket, E.STATUS, by=by, old=ticket.status, new=S.IN_PROGRESS, reason="requester-replied")
        ticket.status = S.IN_PROGRESS
        fields.append("status")
    _touch(ticket, fields, now)
    search.index_comment(ticket_id=ticket.pk, comment_id=comment.pk, body=body, is_internal=internal)
    return comment


def _read_upload(upload: IO[bytes]) -> tuple[str, bytes, int, str]:
    name = files.sanitise_filename(getattr(upload, "name", "") or "")
    head = upload.read(8192)
    digest = hashlib.sha256(head)
    size = len(head)
    limit = settings.PALIER_MAX_ATTACHMENT_BYTES
    while chunk := upload.read(1 << 20):
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
    if size == 0:
        raise ValidationError({"file": _("The file “%(name)s” is empty.") % {"name": name}})
    if size > limit:
        raise ValidationError(
            {"file": _("The file “%(name)s” is larger than %(mb)d MB.") % {"name": name, "mb": limit // 1048576}}
        )
    return name, head, size, digest.hexdigest()


@transaction.atomic
def add_attachment(ticket: Ticket, *, by: User, upload: IO[bytes], comment: Comment | None = None) -> Attachment:
    """Store an uploaded file: size-limited, type sniffed from its bytes, name sanitised."""
    internal = comment.is_internal if comment is not None else False
    if not permissions.can(by, "attach", ticket):
        raise PermissionDenied(_("You cannot attach files to this ticket."))
    name, head, size, sha = _read_upload(upload)
    try:
        content_type = files.sniff(name, head)
    except files.RejectedFile as exc:
        if str(exc) == "disguised":
            message = _("The file “%(name)s” does not contain what its name says.")
        else:
            message = _("Files of this type (“%(name)s”) are not accepted for security reasons.")
        raise ValidationError({"file": message % {"name": name}}) from exc
    upload.seek(0)
    stored_name = uuid.uuid4().hex
    stored = File(upload, name=stored_name)
    attachment = Attachment(
        ticket=ticket,
        comment=comment,
        filename=name,
        content_type=content_type,
        size=size,
        sha256=sha,
        is_internal=internal,
        uploaded_by=by,
    )
    attachment.file.save(stored_name, stored, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    if comment is None:
        history.record(ticket, E.ATTACHED, by=by, internal=internal, attachment=attachment.pk, filename=name)
        _touch(ticket, [])
    return attachment


# --- watchers and links ------------------------------------------------------------------------------


@transaction.atomic
def add_watcher(ticket: Ticket, *, user: User, by: User, expected_version: int | None = None) -> Ticket:
    if not permissions.can(by, "watch", ticket) or (not by.is_agent and by.pk != user.pk):
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
    if not permissions.can(by, "watch", ticket) or (not by.is_agent and by.pk != user.pk):
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
def unlink_tickets(link: TicketLink, *, by: User) -> None:
    if not permissions.can(by, "link", link.source):
        raise NotFound(_("Ticket not found."))
    for ticket, other in ((link.source, link.target), (link.target, link.source)):
        locked = _lock(ticket, None)
        history.record(locked, E.UNLINKED, by=by, internal=True, link=link.kind, other=other.reference)
        _touch(locked, [])
    link.delete()


# --- administration -----------------------------------------------------------------------------------


@transaction.atomic
def set_priority_cell(*, impact: str, urgency: str, priority: int, by: User | None) -> PriorityRule:
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only administrators can edit the priority matrix."))
    _check_choice(impact, Level.values, "impact")
    _check_choice(urgency, Level.values, "urgency")
    if priority not in (1, 2, 3, 4):
        raise ValidationError({"priority": _("The priority must be between 1 and 4.")})
    rule, _created = PriorityRule.objects.update_or_create(
        impact=impact, urgency=urgency, defaults={"priority": priority}
    )
    return rule


@transaction.atomic
def create_category(
    *, slug: str, name_en: str, name_fr: str, parent: Category | None = None, by: User | None
) -> Category:
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only administrators can manage categories."))
    name_en = _clean_text(name_en, field="name_en", maximum=120, required=True)
    name_fr = _clean_text(name_fr, field="name_fr", maximum=120, required=True)
    slug = _clean_text(slug, field="slug", maximum=80, required=True).lower()
    if Category.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("A category with this identifier already exists.")})
    return Category.objects.create(slug=slug, name_en=name_en, name_fr=name_fr, parent=parent)


# --- pages -----------------------------------------------------------------------------------------


@transaction.atomic
def open_ticket_with_files(
    *, requester: User, by: User | None, uploads: Sequence[IO[bytes]] = (), **fields: Any
) -> Ticket:
    """Open a ticket and attach files to it in one transaction (a refused file opens nothing)."""
    ticket = open_ticket(requester=requester, by=by, **fields)
    for upload in uploads:
        add_attachment(ticket, by=by or requester, upload=upload)
    return ticket


# --- idempotent creation (REST API) -------------------------------------------------------------


def _replay(by: User, key: str, fingerprint: str) -> Ticket | None:
    from palier.tickets.models import IdempotencyKey

    previous = IdempotencyKey.objects.filter(user=by, key=key).select_related("ticket").first()
    if previous is None:
        return None
    if previous.fingerprint != fingerprint:
        raise ValidationError(
            {"Idempotency-Key": _("This key was already used with a different request; use a new key.")}
        )
    return previous.ticket


@transaction.atomic
def open_ticket_idempotent(*, key: str, fingerprint: str, by: User, **fields: Any) -> tuple[Ticket, bool]:
    """``open_ticket`` at most once per (user, key): a retry with the same request gets the first
    ticket back (``created`` is False); the same key with another request is refused.

    Two concurrent retries race on the key's unique constraint; the loser's ticket is rolled back.
    """
    from palier.tickets.models import IdempotencyKey

    previous = _replay(by, key, fingerprint)
    if previous is not None:
        return previous, False
    try:
        with transaction.atomic():
            ticket = open_ticket(by=by, **fields)
            IdempotencyKey.objects.create(user=by, key=key, fingerprint=fingerprint, ticket=ticket)
    except IntegrityError:
        previous = _replay(by, key, fingerprint)
        if previous is None:
            raise
        return previous, False
    return ticket, True


# --- agent workspace ---------------------------------------------------------------------------------

MAX_SAVED_FILTERS = 30


@transaction.atomic
def save_filter(*, user: User, name: str, query: str) -> SavedFilter:
    """Save a personal queue view (replacing the one of the same name), last in the list."""
    if not user.is_agent:
        raise PermissionDenied(_("Only agents can save queue filters."))
    name = _clean_text(name, field="name", maximum=80, required=True)
    query = _clean_text(query, field="query", maximum=1000, required=False).lstrip("?")
    mine = SavedFilter.objects.select_for_update().filter(user=user)
    existing = mine.filter(name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if mine.count() >= MAX_SAVED_FILTERS:
        raise ValidationError({"name": _("At most %(n)d saved filters.") % {"n": MAX_SAVED_FILTERS}})
    last = mine.order_by("-position").values_list("position", flat=True).first()
    return SavedFilter.objects.create(user=user, name=name, query=query, position=(last or 0) + 1)


@transaction.atomic
def delete_filter(saved: SavedFilter, *, by: User) -> None:
    if saved.user_id != by.pk:
        raise NotFound(_("Saved filter not found."))
    saved.delete()


def see_ticket(ticket: Ticket, *, user: User, now: datetime | None = None) -> None:
    """Record that ``user`` has the ticket page open (presence; not history, so no event)."""
    now = now or timezone.now()
    if not TicketViewer.objects.filter(ticket=ticket, user=user).update(last_seen=now):
        try:
            with transaction.atomic():
                TicketViewer.objects.create(ticket=ticket, user=user, last_seen=now)
        except IntegrityError:  # a concurrent poll of the same agent created it first
            TicketViewer.objects.filter(ticket=ticket, user=user).update(last_seen=now)


# --- administration pages ------------------------------------------------------------------------


def _check_category_parent(category: Category | None, parent: Category | None) -> None:
    """The tree has two levels: a parent is a top-level category, and a parent cannot move under another."""
    if parent is None:
        return
    if parent.parent_id is not None:
        raise ValidationError({"parent": _("Choose a top-level category as the parent.")})
    if category is not None and (parent.pk == category.pk or category.children.exists()):
        raise ValidationError({"parent": _("A category with sub-categories stays at the top level.")})


@transaction.atomic
def update_category(
    category: Category, *, by: User | None, name_en: str, name_fr: str, parent: Category | None, position: int = 0
) -> Category:
    """Rename a category in both languages, move it, or change its place in the list."""
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only administrators can manage categories."))
    name_en = _clean_text(name_en, field="name_en", maximum=120, required=True)
    name_fr = _clean_text(name_fr, field="name_fr", maximum=120, required=True)
    _check_category_parent(category, parent)
    if not 0 <= position <= 32767:
        raise ValidationError({"position": _("The position must be between 0 and 32767.")})
    category.name_en, category.name_fr, category.parent, category.position = name_en, name_fr, parent, position
    category.save(update_fields=["name_en", "name_fr", "parent", "position"])
    return category


@transaction.atomic
def set_category_active(category: Category, *, active: bool, by: User | None) -> Category:
    """Deactivated categories are no longer offered; tickets keep theirs. Sub-categories follow."""
    if by is not None and not by.is_admin:
        raise PermissionDenied(_("Only administrators can manage categories."))
    if active and category.parent is not None and not category.parent.is_active:
        raise ValidationError({"is_active": _("Activate the parent category first.")})
    Category.objects.filter(pk=category.pk).update(is_active=active)
    if not active:
        Category.objects.filter(parent=category).update(is_active=False)
    category.is_active = active
    return category


@transaction.atomic
def set_priority_matrix(*, cells: dict[tuple[str, str], int], by: User | None) -> None:
    """Save several cells of the impact x urgency matrix at once (all or nothing)."""
    for (impact, urgency), priority in cells.items():
        set_priority_cell(impact=impact, urgency=urgency, priority=priority, by=by)
