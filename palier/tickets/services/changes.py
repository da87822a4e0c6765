"""The changes other apps make to a ticket: priority overrides (routing rules, automation, the
SLA), moves to a group, escalation steps, routing again, the vendor's reference, and the SLA's
due time (a derived value: ``set_sla_due`` records nothing).

Each one locks the row, checks the version when one is given, records one ``TicketEvent`` per
changed field, bumps the version and runs the ``after_change`` hooks, like ``update_ticket``.
Deciding what to change (which group an escalation goes to, whether a rule matches, when the
SLA raises a priority) stays with the app that asks; only the write is here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.lib.errors import IllegalTransition
from palier.people.models import SupportGroup, User
from palier.tickets import history, hooks
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.services._common import E, _lock, _touch
from palier.tickets.services.lifecycle import update_ticket

PRIORITIES = (1, 2, 3, 4)
MAX_VENDOR_REFERENCE = 100


def lock_ticket(ticket: Ticket, *, expected_version: int | None = None) -> Ticket:
    """The ticket re-read under a row lock, refused with ``StaleVersion`` when its version is not
    ``expected_version`` (None: no check). Call inside a transaction, before deciding a change
    on the ticket's current state (which rule matches, where an escalation goes)."""
    return _lock(ticket, expected_version)


# --- priority -----------------------------------------------------------------------------------------


def _write_priority(ticket: Ticket, priority: int, *, by: User | None, reason: str) -> Ticket:
    old = ticket.priority
    ticket.priority = priority
    extra: dict[str, Any] = {"reason": reason} if reason else {}
    history.record(ticket, E.CHANGED, by=by, field="priority", old=old, new=priority, **extra)
    _touch(ticket, ["priority"])
    hooks.run_after_change(ticket, {"priority": old})
    return ticket


@transaction.atomic
def override_priority(
    ticket: Ticket, *, priority: int, by: User | None, reason: str = "", expected_version: int | None = None
) -> Ticket:
    """Set the priority regardless of impact and urgency (a routing rule, an automation action).
    ``reason``, when given, is kept in the event. The same priority changes nothing. The caller
    decides who may do this: routing, automation and the SLA act for the desk."""
    if priority not in PRIORITIES:
        raise ValidationError({"priority": _("The priority must be between 1 and 4.")})
    ticket = _lock(ticket, expected_version)
    if ticket.priority == priority:
        return ticket
    return _write_priority(ticket, priority, by=by, reason=reason)


@transaction.atomic
def raise_priority(ticket_id: int, *, by: User | None, reason: str) -> bool:
    """Priority one step up (P4 -> P3, never above P1) on an open ticket, for the SLA's warning or
    breach actions. False when nothing changed (closed, already P1, or gone)."""
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None or not ticket.is_open or ticket.priority <= 1:
        return False
    _write_priority(ticket, ticket.priority - 1, by=by, reason=reason)
    return True


def set_sla_due(ticket: Ticket, *, due: datetime | None) -> Ticket:
    """Store the earliest due time of the ticket's running SLA clocks (the SLA engine's summary,
    used to sort queues): a derived value, so no event, no version, no hooks."""
    Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
    ticket.sla_due_at = due
    return ticket


def set_sla_dues(tickets: Sequence[Ticket]) -> None:
    """``set_sla_due`` for many tickets at once, each with its ``sla_due_at`` already set."""
    Ticket.objects.bulk_update(tickets, ["sla_due_at"], batch_size=1000)


# --- groups ---------------------------------------------------------------------------------------------


@transaction.atomic
def move_to_group(
    ticket: Ticket,
    *,
    group: SupportGroup | None,
    by: User | None,
    auto_assign: bool,
    assign_as: User | None = None,
    release_assignee: bool = False,
    expected_version: int | None = None,
) -> Ticket:
    """Send the ticket to ``group``. The assignee is released when not a member of the new group,
    or always with ``release_assignee``. With ``auto_assign``, an unassigned ticket is then given
    to a member of the group by its strategy (the ``assign`` hooks); that assignment is recorded
    as ``assign_as``, by default the desk (None): the author of the move may no longer see the
    ticket. Without ``auto_assign`` it waits in the group's queue. Permissions as ``update_ticket``."""
    changes: dict[str, Any] = {"group": group}
    if release_assignee:
        changes["assignee"] = None
    ticket = update_ticket(ticket, by=by, expected_version=expected_version, changes=changes)
    if auto_assign:
        ticket = hooks.run_assign(Ticket.objects.get(pk=ticket.pk), by=assign_as)
    return ticket


@transaction.atomic
def change_level(
    ticket: Ticket,
    *,
    group: SupportGroup,
    by: User | None,
    reason: str,
    fallback: str = "",
    expected_version: int | None = None,
) -> tuple[Ticket, TicketEvent]:
    """The ticket write of an escalation or de-escalation to ``group`` (chosen by the caller): the
    move, releasing the assignee (not assigning: the caller does, once it has told the new group),
    and an ESCALATED or DEESCALATED event with the groups, levels, reason and, when the configured
    path was not followed, why (``fallback``). Returns the ticket and that event."""
    ticket = _lock(ticket, expected_version)
    if not ticket.is_open:
        raise IllegalTransition(_("A resolved, closed or cancelled ticket cannot change level; reopen it first."))
    old = ticket.group
    ticket = move_to_group(ticket, group=group, by=by, auto_assign=False, release_assignee=True)
    old_level = old.level if old is not None else 1
    kind = E.DEESCALATED if group.level < old_level else E.ESCALATED
    data: dict[str, Any] = {
        "from_group": old.name if old is not None else None,
        "to_group": group.name,
        "from_level": old_level,
        "to_level": group.level,
        "reason": reason,
    }
    if fallback:
        data["fallback"] = fallback
    return ticket, history.record(ticket, kind, by=by, internal=True, **data)


@transaction.atomic
def route_ticket(
    ticket: Ticket,
    *,
    by: User | None,
    rule: str | None,
    group: SupportGroup | None = None,
    changes: dict[str, Any] | None = None,
    priority: int | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Record that routing ran again on the ticket (a ROUTED event) and apply what the matching
    ``rule`` (None: no rule matched, nothing changes) sets: ``changes`` as ``update_ticket``
    takes them (group, category, tags) and the ``priority``."""
    ticket = _lock(ticket, expected_version)
    old = ticket.group.name if ticket.group is not None else None
    if rule is None:
        history.record(ticket, E.ROUTED, by=by, internal=True, rule=None, group=old)
        _touch(ticket, [])
        return ticket
    new = group.name if group is not None else None
    history.record(ticket, E.ROUTED, by=by, internal=True, rule=rule, old_group=old, group=new)
    if changes:
        ticket = update_ticket(ticket, by=by, expected_version=None, changes=changes)
    else:
        _touch(ticket, [])
    if priority and priority != ticket.priority:
        ticket = override_priority(ticket, priority=priority, by=by)
    return ticket


# --- vendors ----------------------------------------------------------------------------------------------


@transaction.atomic
def set_vendor_reference(
    ticket: Ticket, *, by: User | None, reference: str, expected_version: int | None = None
) -> Ticket:
    """Store the vendor's own number for the ticket, with a history event (the caller checks
    who may). The same reference changes nothing."""
    reference = (reference or "").replace("\x00", "").strip()
    if len(reference) > MAX_VENDOR_REFERENCE:
        raise ValidationError({"reference": _("At most %(n)d characters.") % {"n": MAX_VENDOR_REFERENCE}})
    ticket = _lock(ticket, expected_version)
    old = ticket.vendor_reference
    if old == reference:
        return ticket
    ticket.vendor_reference = reference
    history.record(ticket, E.CHANGED, by=by, internal=True, field="vendor_reference", old=old, new=reference)
    _touch(ticket, ["vendor_reference"])
    hooks.run_after_change(ticket, {"vendor_reference": old})
    return ticket


@transaction.atomic
def vendor_reference_seen(ticket: Ticket, *, by: User | None, reference: str, vendor: str, group_id: int) -> Ticket:
    """The vendor ``vendor`` (group ``group_id``) quoted ``reference`` for the ticket (read from
    its reply by the group's pattern). The first one is stored (as ``set_vendor_reference``); once
    the ticket has one, a different one adds a VENDOR event saying so, once per reference, and the
    stored one stays. The same one changes nothing."""
    reference = " ".join((reference or "").replace("\x00", "").split())[:MAX_VENDOR_REFERENCE]
    ticket = _lock(ticket, None)
    if not reference or reference == ticket.vendor_reference:
        return ticket
    if not ticket.vendor_reference:
        return set_vendor_reference(ticket, by=by, reference=reference)
    seen = TicketEvent.objects.filter(ticket=ticket, kind=E.VENDOR, data__other_reference=reference).exists()
    if seen:
        return ticket
    history.record(
        ticket, E.VENDOR, by=by, internal=True, vendor=vendor, group_id=group_id, other_reference=reference,
        kept_reference=ticket.vendor_reference,
    )  # fmt: skip
    _touch(ticket, [])
    return ticket
