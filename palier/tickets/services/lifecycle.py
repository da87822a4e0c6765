"""Opening, editing and moving tickets through their statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib import copyinsert
from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.people.models import SupportGroup, User
from palier.tickets import history, hooks, permissions, search
from palier.tickets.models import (
    Category,
    Level,
    Ticket,
    TicketEvent,
)
from palier.tickets.rules import allowed_targets, is_reopen
from palier.tickets.services._common import (
    MAX_BODY,
    MAX_SUBJECT,
    E,
    S,
    _check_assignee,
    _check_choice,
    _clean_tags,
    _clean_text,
    _lock,
    _set_tags,
    _touch,
    ensure_tags,
    next_number,
    next_numbers,
    priority_for,
    priority_matrix,
)

# --- creation --------------------------------------------------------------------------------------

# the choices, once: ``Choices.values`` builds a new list on every read
_KINDS = frozenset(Ticket.Kind.values)
_LEVELS = frozenset(Level.values)
_CHANNELS = frozenset(Ticket.Channel.values)


@dataclass
class NewTicket:
    """A validated, unsaved ticket and what goes with it, ready for ``open_tickets``."""

    ticket: Ticket
    draft: hooks.Draft
    watchers: Sequence[User] = ()


def prepare_ticket(
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
    on_behalf_of: User | None = None,
) -> NewTicket:
    """Check who may open what and validate every field, without writing anything: a refused
    ticket raises here (``ValidationError``, ``PermissionDenied``) before it joins a batch."""
    if by is not None and not by.is_agent:
        if requester.pk != by.pk:
            raise PermissionDenied(_("You can only open tickets for yourself."))
        if group is not None or assignee is not None:
            raise PermissionDenied(_("Only agents can choose the group or the assignee."))
    subject = _clean_text(subject, field="subject", maximum=MAX_SUBJECT, required=True)
    description = _clean_text(description, field="description", maximum=MAX_BODY, required=False)
    _check_choice(kind, _KINDS, "kind")
    _check_choice(impact, _LEVELS, "impact")
    _check_choice(urgency, _LEVELS, "urgency")
    _check_choice(channel, _CHANNELS, "channel")
    if category is not None and not category.is_active:
        raise ValidationError({"category": _("This category is no longer in use.")})
    if not requester.is_active:
        raise ValidationError({"requester": _("This account is deactivated.")})
    tag_names = _clean_tags(tags)
    _check_assignee(assignee, group)
    ticket = Ticket(
        kind=kind,
        subject=subject,
        description=description,
        requester=requester,
        organisation_id=requester.organisation_id,
        category=category,
        impact=impact,
        urgency=urgency,
        status=S.ASSIGNED if assignee else S.NEW,
        group=group,
        assignee=assignee,
        channel=channel,
        created_by=by or on_behalf_of,
    )
    draft = hooks.Draft(by=by, group_chosen=group is not None, assignee_chosen=assignee is not None, tags=tag_names)
    return NewTicket(ticket=ticket, draft=draft, watchers=list(watchers))


@transaction.atomic
def open_ticket(*, by: User | None, **fields: Any) -> Ticket:
    """Open an incident or service request (the fields of ``prepare_ticket``). ``by`` is None for
    system channels (email, catalog, monitoring), which may place the ticket themselves;
    ``on_behalf_of`` then names the person the channel acts for, shown as the ticket's creator in
    its history."""
    return open_tickets([prepare_ticket(by=by, **fields)])[0]


@transaction.atomic(savepoint=False)  # the callers' own atomic blocks make the savepoint
def open_tickets(items: Sequence[NewTicket]) -> list[Ticket]:
    """Write prepared tickets in the caller's transaction, in order: numbers, priority, routing
    and assignment (``before_open`` hooks), the rows, their ``created`` events and search
    entries, then the ``after_open`` hooks (SLA clocks). Several tickets cost about as many
    statements as one, which is what lets the API batch concurrent creations."""
    if not items:
        return []
    _number_and_prioritise(items)
    hooks.run_before_open([(item.ticket, item.draft) for item in items])
    _place_the_rest(items)
    tickets = list(copyinsert.insert_new([item.ticket for item in items]))
    _tag_new_tickets(items)
    history.record_many([_created_event(item) for item in items])
    search.index_new_tickets(tickets)
    hooks.run_after_open(tickets)
    return tickets


def _number_and_prioritise(items: Sequence[NewTicket]) -> None:
    now = timezone.now()
    matrix = priority_matrix()
    by_kind: dict[str, list[Ticket]] = {}
    for item in items:
        by_kind.setdefault(item.ticket.kind, []).append(item.ticket)
    for kind, same in by_kind.items():
        for ticket, number in zip(same, next_numbers(kind, len(same)), strict=True):
            ticket.number = number
    for item in items:
        item.ticket.priority = matrix[(item.ticket.impact, item.ticket.urgency)]
        item.ticket.created_at = item.ticket.updated_at = now


def _place_the_rest(items: Sequence[NewTicket]) -> None:
    """Tickets no rule placed go to the triage group: every ticket lands somewhere."""
    if any(item.ticket.group is None for item in items):
        triage = SupportGroup.objects.filter(is_triage=True).first()
        for item in items:
            if item.ticket.group is None:
                item.ticket.group = triage
    for item in items:
        if item.ticket.assignee_id and item.ticket.status == S.NEW:
            item.ticket.status = S.ASSIGNED


def _tag_new_tickets(items: Sequence[NewTicket]) -> None:
    """The tags of saved new tickets, the whole batch with one read and two inserts (a bulk
    import of a monitoring flood tags every ticket)."""
    wanted: list[tuple[Ticket, list[str]]] = []
    for item in items:
        names = _clean_tags(item.draft.tags)
        if names:
            wanted.append((item.ticket, names))
        else:
            item.ticket._opened_without_tags = True  # type: ignore[attr-defined]  # see selectors.new_ticket_related
    if not wanted:
        return
    tags = ensure_tags({name for _ticket, names in wanted for name in names})
    through = Ticket.tags.through
    through.objects.bulk_create(
        [through(ticket_id=ticket.pk, tag_id=tags[name].pk) for ticket, names in wanted for name in names]
    )


def _created_event(item: NewTicket) -> TicketEvent:
    """Watchers of a saved ticket, and its unsaved ``created`` event."""
    ticket, draft = item.ticket, item.draft
    if item.watchers:
        ticket.watchers.add(*item.watchers)
    group, assignee = ticket.group, ticket.assignee
    return history.build(
        ticket,
        E.CREATED,
        by=ticket.created_by,
        reference=ticket.reference,
        status=ticket.status,
        priority=ticket.priority,
        channel=ticket.channel,
        group=group.name if group else None,
        assignee=assignee.display_name if assignee else None,
        placed=draft.notes or None,
    )


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
    before = {name: getattr(ticket, name) for name in ("priority", "status", "group", "assignee", "category", "kind")}
    before.update({name: getattr(ticket, name) for name in cleaned if name in UPDATABLE})
    changed = _apply_fields(ticket, cleaned, by=by)
    changed += _derive_priority_and_status(ticket, changed, by=by)
    if changed or "tags" in changes:
        _touch(ticket, changed)
    if {"subject", "description"} & set(changed):
        search.index_ticket_text(ticket_id=ticket.pk, subject=ticket.subject, description=ticket.description)
    hooks.run_after_change(ticket, {name: before[name] for name in changed if name in before})
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
    as_requester = by is not None and not permissions.works_on(by, ticket)
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
    if to == S.RESOLVED:
        hooks.run_before_resolve(ticket, by=by)  # guards: open mandatory tasks (palier/events.py)
    old = ticket.status
    ticket.status = to
    fields = ["status"]
    if to == S.RESOLVED:
        ticket.resolved_at = now
        ticket.resolved_level = ticket.group.level if ticket.group_id else None  # type: ignore[union-attr]
        fields += ["resolved_at", "resolved_level"]
    elif is_reopen(old, to):
        ticket.resolved_at = None
        ticket.resolved_level = None
        fields += ["resolved_at", "resolved_level"]
    if to in (S.CLOSED, S.CANCELLED):
        ticket.closed_at = now
        fields.append("closed_at")
    note = _clean_text(note, field="note", maximum=MAX_BODY, required=False)
    extra: dict[str, Any] = {"note": note} if note else {}
    history.record(ticket, E.STATUS, by=by, old=old, new=to, **extra)
    _touch(ticket, fields, now)
    hooks.run_after_change(ticket, {"status": old})
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
        hooks.run_after_change(ticket, {"status": S.RESOLVED})
        closed += 1
    return closed
