"""Functional and hierarchical escalation, vendors, and the default group per category and level.

``escalate`` is also the SLA engine's breach action (``by=None``). Moving the ticket goes through
the ticket service ``change_level`` (history, version, hooks); its ESCALATED / DEESCALATED event
carries the groups, levels and reason; the new group's manager is notified, and each further
escalation of the same ticket climbs one more step up the managers' chain (``User.manager``).

Vendor groups: the VENDOR event holds what the email to ``vendor_contacts`` says and the group's
id (the vendor's replies are accepted on the tickets sent to it: ``mail.vendors``); the same
transaction queues that email through the outbox (``notifications.email.queue_vendor_email``,
sent after commit, in the desk's language, with the ticket tag so the vendor's answer threads).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.notifications.models import Notification
from palier.notifications.services import event_key, notify
from palier.people.models import SupportGroup, User
from palier.routing import permissions as routing_permissions
from palier.routing import selectors
from palier.routing.models import CategoryLevelDefault
from palier.routing.services import assignment
from palier.tickets import history, permissions
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Ticket, TicketEvent
from palier.tickets.services import MAX_BODY

E = TicketEvent.Kind
SYSTEM_REASON = "automatic escalation"
MAX_CHAIN = 20


@dataclass(frozen=True)
class Target:
    group: SupportGroup
    fallback: str = ""  # why the configured path was not followed


# --- checks ------------------------------------------------------------------------------------------


def _check_actor(ticket: Ticket, by: User | None) -> None:
    if by is not None and (not by.is_agent or not permissions.can(by, "update", ticket)):
        raise PermissionDenied(_("You cannot escalate this ticket."))


def _clean_reason(reason: str, by: User | None) -> str:
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        if by is not None:
            raise ValidationError({"reason": _("Say why the ticket changes level: the next group reads it first.")})
        reason = SYSTEM_REASON
    if len(reason) > MAX_BODY:
        raise ValidationError({"reason": _("At most %(n)d characters.") % {"n": MAX_BODY}})
    return reason


def path_problem(group: SupportGroup) -> str:
    """Why ``group.escalation_group`` cannot be followed, or "" when it can."""
    target = group.escalation_group
    if target is None:
        return ""
    if target.pk == group.pk:
        return "the group escalates to itself"
    if target.level < group.level:
        return "the group escalates to a lower level"
    seen = {group.pk}
    current: SupportGroup | None = target
    while current is not None and len(seen) < MAX_CHAIN:
        if current.pk in seen:
            return "the escalation path loops"
        seen.add(current.pk)
        current = current.escalation_group
    return ""


# --- choosing the target ------------------------------------------------------------------------------


def _group_of_level(ticket: Ticket, level: int, *, vendors: bool) -> SupportGroup | None:
    return selectors.default_group_for(ticket.category_id, level) or selectors.first_group_of_level(
        level, vendors=vendors
    )


def _no_group(level: int) -> ValidationError:
    return ValidationError(
        {"to_group": _("There is no group at level L%(level)d to send this ticket to.") % {"level": level}}
    )


def _automatic_target(ticket: Ticket, current: SupportGroup | None, *, up: bool) -> Target:
    level = current.level if current is not None else 1
    fallback = ""
    if up and current is not None and current.escalation_group_id is not None:
        fallback = path_problem(current)
        if not fallback:
            return Target(current.escalation_group)  # type: ignore[arg-type]
    wanted = level + 1 if up else level - 1
    if wanted > 5:
        raise ValidationError({"to_level": _("This ticket is already at L5, the highest level.")})
    if wanted < 1:
        raise ValidationError({"to_level": _("This ticket is already at L1, the lowest level.")})
    group = _group_of_level(ticket, wanted, vendors=False)
    if group is None:
        raise _no_group(wanted)
    return Target(group, fallback)


def resolve_target(
    ticket: Ticket, *, up: bool, to_group: SupportGroup | None = None, to_level: int | None = None
) -> Target:
    """Where an escalation (``up``) or de-escalation goes; raises ValidationError when nowhere."""
    current = ticket.group
    if to_group is not None:
        target = SupportGroup.objects.filter(pk=to_group.pk).first()
        if target is None:
            raise ValidationError({"to_group": _("This group no longer exists.")})
        result = Target(target)
    elif to_level is not None:
        if not 1 <= to_level <= 5:
            raise ValidationError({"to_level": _("Levels go from L1 to L5.")})
        group = _group_of_level(ticket, to_level, vendors=True)
        if group is None:
            raise _no_group(to_level)
        result = Target(group)
    else:
        result = _automatic_target(ticket, current, up=up)
    if current is not None and result.group.pk == current.pk:
        raise ValidationError({"to_group": _("The ticket is already in this group.")})
    return result


# --- escalating -------------------------------------------------------------------------------------


def escalate(
    ticket: Ticket,
    *,
    by: User | None,
    reason: str,
    to_group: SupportGroup | None = None,
    to_level: int | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Send the ticket up: to ``to_group``, to the default group of ``to_level``, or by default to
    the group's escalation group, else the next level's default group for its category, else the
    first non-vendor group of the next level. ``reason`` is required from people (``by``)."""
    return _move(ticket, by=by, reason=reason, to_group=to_group, to_level=to_level, expected=expected_version, up=True)


def deescalate(
    ticket: Ticket,
    *,
    by: User | None,
    reason: str,
    to_group: SupportGroup | None = None,
    to_level: int | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Send the ticket down: to ``to_group``, ``to_level``, or the previous level's default group."""
    return _move(
        ticket, by=by, reason=reason, to_group=to_group, to_level=to_level, expected=expected_version, up=False
    )


@transaction.atomic
def _move(
    ticket: Ticket,
    *,
    by: User | None,
    reason: str,
    to_group: SupportGroup | None,
    to_level: int | None,
    expected: int | None,
    up: bool,
) -> Ticket:
    _check_actor(ticket, by)
    reason = _clean_reason(reason, by)
    ticket = ticket_services.lock_ticket(ticket, expected_version=expected)
    if not ticket.is_open:
        raise IllegalTransition(_("A resolved, closed or cancelled ticket cannot change level; reopen it first."))
    target = resolve_target(ticket, up=up, to_group=to_group, to_level=to_level)
    if by is not None:  # before the move: the author may no longer see the ticket afterwards
        ticket_services.comment_on_ticket(ticket, by=by, body=reason, internal=True)
    ticket, event = ticket_services.change_level(
        ticket, group=target.group, by=by, reason=reason, fallback=target.fallback
    )
    if event.kind == E.ESCALATED:
        _notify_managers(ticket, target.group, event)
    if target.group.is_vendor:
        _send_to_vendor(ticket, target.group, by=by)
    ticket = Ticket.objects.select_related("group").get(pk=ticket.pk)
    return assignment.assign_in_group(ticket, by=None)  # the desk assigns, not the author


def _notify_managers(ticket: Ticket, group: SupportGroup, event: TicketEvent) -> None:
    """The new group's manager; from the second escalation on, one more step up the chain each time.

    The key is the one the notifications consumer uses when it tells the group's members about this
    event: a manager who is also a member (or a chain manager who is one) gets a single row."""
    manager = group.manager
    if manager is None:
        return
    key = event_key(event.pk, Notification.Kind.ESCALATED)
    notify([manager], kind=Notification.Kind.ESCALATED, ticket=ticket, key=key, group=group.name)
    steps = TicketEvent.objects.filter(ticket=ticket, kind=E.ESCALATED).count() - 1
    chain: list[User] = []
    seen = {manager.pk}
    current = manager.manager
    while current is not None and len(chain) < steps and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.manager
    if chain:
        notify(chain, kind=Notification.Kind.ESCALATION_MANAGER, ticket=ticket, key=key, group=group.name)


def vendor_context(ticket: Ticket, group: SupportGroup) -> dict[str, Any]:
    """What the vendor is sent: recipients, ticket reference, subject, description, contract."""
    return {
        "vendor": group.vendor_company or group.name,
        "to": [line.strip() for line in group.vendor_contacts.splitlines() if line.strip()],
        "reference": ticket.reference,
        "subject": ticket.subject,
        "description": ticket.description,
        "contract_reference": group.contract_reference,
        "vendor_reference": ticket.vendor_reference,
    }


def _send_to_vendor(ticket: Ticket, group: SupportGroup, *, by: User | None) -> None:
    """Email the vendor's contacts (through the outbox, after commit) and record it as a VENDOR event."""
    from palier.notifications.email import queue_vendor_email

    context = vendor_context(ticket, group)
    event = history.record(ticket, E.VENDOR, by=by, internal=True, group_id=group.pk, **context)
    queue_vendor_email(ticket=ticket, context=context, key=f"vendor:{ticket.pk}:{event.pk}")
    if group.manager is not None:
        notify(
            [group.manager],
            kind=Notification.Kind.VENDOR,
            ticket=ticket,
            key=f"vendor:{ticket.pk}:{ticket.version}",
            group=group.name,
        )


@transaction.atomic
def set_vendor_reference(
    ticket: Ticket, *, by: User | None, reference: str, expected_version: int | None = None
) -> Ticket:
    """Store the vendor's own number for the ticket (agents only), with a history event."""
    if by is not None and (not by.is_agent or not permissions.can(by, "update", ticket)):
        raise PermissionDenied(_("You cannot change this ticket."))
    return ticket_services.set_vendor_reference(ticket, by=by, reference=reference, expected_version=expected_version)


# --- defaults per category and level (admins) ---------------------------------------------------------------


@transaction.atomic
def set_category_level_default(
    *, by: User | None, category: Category, level: int, group: SupportGroup
) -> CategoryLevelDefault:
    """Make ``group`` the default escalation group of ``level`` for ``category`` and its subcategories."""
    routing_permissions.require(by, "manage_escalation")
    if level not in SupportGroup.Level.values:
        raise ValidationError({"level": _("The level must be between 1 and 5.")})
    if not SupportGroup.objects.filter(pk=group.pk).exists():
        raise ValidationError({"group": _("This group no longer exists.")})
    if group.level != level:
        raise ValidationError(
            {"group": _("This group is at L%(actual)d, not L%(level)d.") % {"actual": group.level, "level": level}}
        )
    default, _created = CategoryLevelDefault.objects.update_or_create(
        category=category, level=level, defaults={"group": group}
    )
    return default


@transaction.atomic
def delete_category_level_default(default: CategoryLevelDefault, *, by: User | None) -> None:
    routing_permissions.require(by, "manage_escalation")
    audit.record("deleted", actor=by, target=default)
    CategoryLevelDefault.objects.filter(pk=default.pk).delete()
