"""Merging duplicate tickets into one, and undoing a merge shortly after (docs/merge-split.md).

A merge is all-or-nothing: every ticket is checked (the agent may edit it, it is not merged
already, it is not the surviving ticket, same organisation unless allowed) before anything is
written. The conversations and files of the merged tickets move to the survivor; their
requesters and watchers become its watchers; each merged ticket is closed as "duplicate of" the
survivor (a ``duplicate`` link, ``merged_into``), with an event on both sides. Links, assets,
problems, catalog requests, logged time and survey answers stay on the merged ticket, which
stays readable and points at the survivor.

A fixed number of statements moves the rows whatever the number of tickets; the ``after_change``
hooks (the SLA engine stops the merged tickets' clocks) run once per merged ticket, as for any
ticket that closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion
from palier.people.models import User
from palier.tickets import history, hooks, permissions, search
from palier.tickets.models import Attachment, Comment, Ticket, TicketEvent, TicketLink
from palier.tickets.services._common import E, S, _touch

MAX_MERGE = 100  # tickets merged in one go
_CLOSED = (S.CLOSED, S.CANCELLED)


def _refs(tickets: Sequence[Ticket]) -> str:
    return ", ".join(t.reference for t in tickets)


def _lock_all(ids: list[int]) -> dict[int, Ticket]:
    """Lock the rows in id order (the same order for every writer: no deadlock between merges)."""
    rows = Ticket.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk")
    return {t.pk: t for t in rows.select_related("requester")}


def _check_access(by: User, tickets: Sequence[Ticket]) -> None:
    """Every ticket visible (else: not found) and editable by ``by`` (else: refused), in one query
    for the visibility."""
    ids = [t.pk for t in tickets]
    seen = set(Ticket.objects.filter(permissions.visible(by), pk__in=ids).values_list("pk", flat=True))
    if len(seen) < len(set(ids)):
        raise NotFound(_("Ticket not found."))
    refused = [t for t in tickets if not permissions.can(by, "update", t, seen=True)]
    if refused:
        raise PermissionDenied(_("You cannot edit %(refs)s.") % {"refs": _refs(refused)})


def _check_merge(survivor: Ticket, merged: Sequence[Ticket], *, expected_version: int | None) -> None:
    """The rules, on the locked rows; the first broken one raises and nothing is written."""
    if survivor.merged_into_id is not None:
        raise IllegalTransition(
            _("%(ref)s was itself merged into another ticket; merge into that one instead.")
            % {"ref": survivor.reference}
        )
    if survivor.status in _CLOSED:
        raise IllegalTransition(_("%(ref)s is closed; merge into an open ticket.") % {"ref": survivor.reference})
    if expected_version is not None and survivor.version != expected_version:
        raise StaleVersion(_("%(ref)s was changed meanwhile; reload it and try again.") % {"ref": survivor.reference})
    already = [t for t in merged if t.merged_into_id is not None]
    if already:
        raise IllegalTransition(_("Already merged: %(refs)s.") % {"refs": _refs(already)})
    closed = [t for t in merged if t.status in _CLOSED]
    if closed:
        raise IllegalTransition(_("Closed or cancelled tickets cannot be merged: %(refs)s.") % {"refs": _refs(closed)})
    if not settings.PALIER_MERGE_ACROSS_ORGANISATIONS:
        other = [t for t in merged if t.organisation_id != survivor.organisation_id]
        if other:
            raise PermissionDenied(
                _("%(refs)s belong to another organisation than %(ref)s; tickets are merged within one organisation.")
                % {"refs": _refs(other), "ref": survivor.reference}
            )


def _clean_ids(survivor: Ticket, merged_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in merged_ids))
    if not ids:
        raise ValidationError({"tickets": _("Choose at least one ticket to merge.")})
    if len(ids) > MAX_MERGE:
        raise ValidationError({"tickets": _("At most %(n)d tickets are merged at once.") % {"n": MAX_MERGE}})
    if survivor.pk in ids:
        raise ValidationError({"tickets": _("A ticket cannot be merged into itself.")})
    return ids


@transaction.atomic
def merge_tickets(survivor: Ticket, *, merged: Sequence[int], by: User, expected_version: int | None = None) -> Ticket:
    """Merge the tickets ``merged`` (ids) into ``survivor``; returns the survivor, changed.

    Raises ``NotFound`` when a ticket is not visible to ``by``, ``PermissionDenied`` when ``by``
    may not edit one (or organisations differ and that is not allowed), ``IllegalTransition``
    for a ticket already merged or closed, ``ValidationError`` for an empty list or a ticket
    merged into itself. Nothing is written unless every ticket passes."""
    ids = _clean_ids(survivor, merged)
    locked = _lock_all([survivor.pk, *ids])
    if len(locked) < len(ids) + 1:
        raise NotFound(_("Ticket not found."))
    keep = locked[survivor.pk]
    duplicates = [locked[i] for i in ids]
    _check_access(by, [keep, *duplicates])
    _check_merge(keep, duplicates, expected_version=expected_version)
    now = timezone.now()
    moved = _move_conversation(keep, duplicates)
    added = _add_watchers(keep, duplicates)
    TicketLink.objects.bulk_create(
        [TicketLink(source=t, target=keep, kind=TicketLink.Kind.DUPLICATE, created_by=by) for t in duplicates],
        ignore_conflicts=True,
    )
    events = [
        history.build(keep, E.MERGED, by=by, tickets=[t.reference for t in duplicates], ids=ids),
    ]
    for ticket in duplicates:
        events += [
            history.build(
                ticket,
                E.MERGED_INTO,
                by=by,
                other=keep.reference,
                other_id=keep.pk,
                previous_status=ticket.status,
                comments=moved[ticket.pk][0],
                attachments=moved[ticket.pk][1],
                watchers=added.get(ticket.pk, []),
            ),
            history.build(ticket, E.STATUS, by=by, old=ticket.status, new=S.CLOSED, reason="merged"),
        ]
    history.record_many(events)
    Ticket.objects.filter(pk__in=ids).update(
        status=S.CLOSED, closed_at=now, merged_into=keep, merged_at=now, updated_at=now, version=F("version") + 1
    )
    for ticket in duplicates:  # the SLA engine stops their clocks, as for any ticket that closes
        old_status = ticket.status
        ticket.status, ticket.closed_at, ticket.merged_into, ticket.merged_at = S.CLOSED, now, keep, now
        hooks.run_after_change(ticket, {"status": old_status})
    _touch(keep, [], now)
    return keep


def _move_conversation(keep: Ticket, duplicates: Sequence[Ticket]) -> dict[int, tuple[list[int], list[int]]]:
    """Move the comments and files of ``duplicates`` to ``keep``; per merged ticket, the ids moved
    (kept in its event, for an undo)."""
    ids = [t.pk for t in duplicates]
    moved: dict[int, tuple[list[int], list[int]]] = {pk: ([], []) for pk in ids}
    for pk, ticket_id in Comment.objects.filter(ticket_id__in=ids).values_list("pk", "ticket_id"):
        moved[ticket_id][0].append(pk)
    for pk, ticket_id in Attachment.objects.filter(ticket_id__in=ids).values_list("pk", "ticket_id"):
        moved[ticket_id][1].append(pk)
    comment_ids = [pk for comments, _files in moved.values() for pk in comments]
    if comment_ids:
        Comment.objects.filter(pk__in=comment_ids).update(ticket=keep)
        search.move_comments(comment_ids, ticket_id=keep.pk)
    Attachment.objects.filter(ticket_id__in=ids).update(ticket=keep)
    return moved


def _add_watchers(keep: Ticket, duplicates: Sequence[Ticket]) -> dict[int, list[int]]:
    """The requesters and watchers of ``duplicates`` watch ``keep`` (not its own requester, not
    twice); per merged ticket, who was added because of it."""
    through = Ticket.watchers.through
    ids = [t.pk for t in duplicates]
    present = set(through.objects.filter(ticket_id=keep.pk).values_list("user_id", flat=True)) | {keep.requester_id}
    watching: dict[int, list[int]] = {pk: [] for pk in ids}
    for ticket_id, user_id in through.objects.filter(ticket_id__in=ids, user__is_active=True).values_list(
        "ticket_id", "user_id"
    ):
        watching[ticket_id].append(user_id)
    added: dict[int, list[int]] = {}
    for ticket in duplicates:
        for user_id in [ticket.requester_id, *watching[ticket.pk]]:
            if user_id not in present:
                present.add(user_id)
                added.setdefault(ticket.pk, []).append(user_id)
    rows = [through(ticket_id=keep.pk, user_id=u) for users in added.values() for u in users]
    through.objects.bulk_create(rows, ignore_conflicts=True)
    return added


# --- undo -----------------------------------------------------------------------------------------------


def undo_deadline(ticket: Ticket) -> Any:
    """Until when the merge of ``ticket`` may be undone (None: not merged)."""
    if ticket.merged_at is None:
        return None
    return ticket.merged_at + timedelta(minutes=settings.PALIER_MERGE_UNDO_MINUTES)


@transaction.atomic
def undo_merge(ticket: Ticket, *, by: User) -> Ticket:
    """Undo the merge of ``ticket`` within ``PALIER_MERGE_UNDO_MINUTES``: what moved goes back
    (comments and files added to the survivor since stay there), the watchers it brought leave
    the survivor, the duplicate link goes, and ``ticket`` gets its status back. Returns it."""
    if ticket.merged_into_id is None:
        raise IllegalTransition(_("%(ref)s is not merged.") % {"ref": ticket.reference})
    locked = _lock_all([ticket.pk, ticket.merged_into_id])
    merged, keep = locked[ticket.pk], locked[ticket.merged_into_id]
    _check_access(by, [merged, keep])
    deadline = undo_deadline(merged)
    if merged.merged_into_id != keep.pk or deadline is None or timezone.now() > deadline:
        raise IllegalTransition(
            _("A merge can be undone for %(minutes)d minutes only; split the messages out instead.")
            % {"minutes": settings.PALIER_MERGE_UNDO_MINUTES}
        )
    event = TicketEvent.objects.filter(ticket=merged, kind=E.MERGED_INTO).order_by("-pk").first()
    data: dict[str, Any] = event.data if event is not None else {}
    comment_ids = [int(i) for i in data.get("comments", [])]
    if comment_ids:
        Comment.objects.filter(pk__in=comment_ids, ticket=keep).update(ticket=merged)
        search.move_comments(comment_ids, ticket_id=merged.pk)
    Attachment.objects.filter(pk__in=[int(i) for i in data.get("attachments", [])], ticket=keep).update(ticket=merged)
    _remove_watchers(keep, merged, [int(i) for i in data.get("watchers", [])])
    TicketLink.objects.filter(source=merged, target=keep, kind=TicketLink.Kind.DUPLICATE).delete()
    previous = str(data.get("previous_status") or S.IN_PROGRESS)
    history.record_many(
        [
            history.build(keep, E.UNMERGED, by=by, other=merged.reference, direction="out"),
            history.build(merged, E.UNMERGED, by=by, other=keep.reference, direction="in"),
            history.build(merged, E.STATUS, by=by, old=merged.status, new=previous, reason="unmerged"),
        ]
    )
    merged.status, merged.closed_at, merged.merged_into, merged.merged_at = previous, None, None, None
    _touch(merged, ["status", "closed_at", "merged_into", "merged_at"])
    _touch(keep, [])
    # the SLA engine resumes the stopped resolution clock as for a reopened ticket
    hooks.run_after_change(merged, {"status": S.RESOLVED})
    return merged


def _remove_watchers(keep: Ticket, merged: Ticket, user_ids: list[int]) -> None:
    """The watchers the merge brought, unless another ticket still merged into ``keep`` brings them."""
    if not user_ids:
        return
    still = set(Ticket.objects.filter(merged_into=keep).exclude(pk=merged.pk).values_list("requester_id", flat=True))
    gone = [u for u in user_ids if u not in still]
    Ticket.watchers.through.objects.filter(ticket_id=keep.pk, user_id__in=gone).delete()
