"""Routing rules: the admin's ordered list, its per-process cache, and placing tickets with it."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets import facts as asset_facts
from palier.assets.models import Asset, AssetType
from palier.audit import services as audit
from palier.core.cache import VersionedCache
from palier.lib import ordering
from palier.lib.errors import PermissionDenied
from palier.people.models import Department, Organisation, SupportGroup, User
from palier.routing import permissions as routing_permissions
from palier.routing import selectors
from palier.routing.matching import CompiledRule, Facts, compile_rule, first_match, parse_words, split_tags
from palier.routing.models import RoutingRule
from palier.routing.services import assignment
from palier.tickets import permissions
from palier.tickets import services as ticket_services
from palier.tickets.hooks import Draft
from palier.tickets.models import Category, Ticket
from palier.tickets.search import normalise

log = logging.getLogger(__name__)

MAX_WORDS = 2000
MAX_TAGS = 20


# --- the per-process cache ----------------------------------------------------------------------------


def _load() -> tuple[CompiledRule, ...]:
    rows = RoutingRule.objects.filter(is_active=True, group__isnull=False).order_by("position", "id")
    return tuple(compile_rule(rule) for rule in rows)


RULES = VersionedCache("routing.rules", load=_load)


def _bump() -> None:
    """Every process reloads its rules at its next ticket (called inside the changing transaction)."""
    RULES.bump()


def active_rules() -> tuple[CompiledRule, ...]:
    """The active rules that have a group, in order; one small query when nothing changed."""
    return RULES.get()


# --- matching a ticket ------------------------------------------------------------------------------


def facts_for(ticket: Ticket, *, rules: tuple[CompiledRule, ...], mailbox: str = "") -> Facts:
    needs_categories = ticket.category_id is not None and any(rule.needs_categories for rule in rules)
    asset_rules = [rule for rule in rules if rule.needs_assets]
    requester = ticket.requester
    return Facts(
        kind=ticket.kind,
        category_ids=frozenset(selectors.ticket_category_lineage(ticket) if needs_categories else ()),
        channel=ticket.channel,
        organisation_id=ticket.organisation_id,
        department_id=requester.department_id if requester is not None else None,
        priority=ticket.priority,
        text=normalise(f"{ticket.subject}\n{ticket.description}"),
        mailbox=mailbox,
        # a new ticket's assets are those its caller is about to link (``assets.facts.opening_with``)
        assets=asset_facts.facts_for(ticket, services=any(rule.needs_services for rule in asset_rules))
        if asset_rules
        else asset_facts.EMPTY,
    )


def find_placement(
    ticket: Ticket, *, rules: tuple[CompiledRule, ...] | None = None
) -> tuple[CompiledRule, SupportGroup] | None:
    """The first active rule matching ``ticket`` whose group still exists, with that group."""
    if rules is None:
        rules = active_rules()
    if not rules:
        return None
    facts = facts_for(ticket, rules=rules)
    remaining = rules
    while remaining:
        rule = first_match(remaining, facts)
        if rule is None:
            return None
        group = selectors.group_by_id(rule.group_id)
        if group is not None:
            return rule, group
        log.warning("routing rule %s points at a deleted group; skipped", rule.id)
        remaining = remaining[remaining.index(rule) + 1 :]
    return None


def route_new_tickets(pairs: list[tuple[Ticket, Draft]]) -> None:
    """Place unsaved tickets: each by the first matching rule, else in the triage group (the rules
    and the triage group are read once for all)."""
    rules = active_rules()
    triage: list[SupportGroup | None] = []
    for ticket, draft in pairs:
        placement = find_placement(ticket, rules=rules)
        if placement is None:
            if not triage:
                triage.append(SupportGroup.objects.filter(is_triage=True).first())
            ticket.group = triage[0]
            draft.notes.append("no routing rule matched: triage group")
            continue
        rule, group = placement
        ticket.group = group
        if rule.set_category_id and ticket.category_id is None:
            ticket.category_id = rule.set_category_id
        if rule.set_priority:
            ticket.priority = rule.set_priority
        draft.tags.extend(rule.tags)
        draft.notes.append(f"routing rule: {rule.name}")


@transaction.atomic
def reroute(ticket: Ticket, *, by: User | None, expected_version: int | None = None) -> Ticket:
    """Run the rules again on an existing ticket (after the agent recategorised it).

    A matching rule moves the ticket to its group (the assignee is released and the group's
    strategy picks a new one), fills an empty category, sets the priority and adds its tags.
    Without a match the ticket stays where it is. Either way a ROUTED event tells what happened.
    """
    if by is not None and not permissions.can(by, "update", ticket):
        raise PermissionDenied(_("You cannot change this ticket."))
    ticket = ticket_services.lock_ticket(ticket, expected_version=expected_version)
    placement = find_placement(ticket)
    if placement is None:
        return ticket_services.route_ticket(ticket, by=by, rule=None)
    rule, group = placement
    changes: dict[str, Any] = {}
    if group.pk != ticket.group_id:
        changes["group"] = group
    if rule.set_category_id and ticket.category_id is None:
        changes["category"] = Category.objects.get(pk=rule.set_category_id)
    if rule.tags:
        current = set(ticket.tags.values_list("name", flat=True))
        if not set(rule.tags) <= current:
            changes["tags"] = sorted(current | set(rule.tags))
    ticket = ticket_services.route_ticket(
        ticket, by=by, rule=rule.name, group=group, changes=changes, priority=rule.set_priority
    )
    if "group" in changes:
        ticket = assignment.assign_in_group(ticket, by=None)  # the desk assigns, not the author
    return ticket


# --- the admin's list ----------------------------------------------------------------------------------


def _check_choice(value: str, choices: list[str], field: str) -> None:
    if value and value not in choices:
        raise ValidationError({field: _("“%(value)s” is not a valid choice.") % {"value": value}})


def _clean_rule(fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = dict(fields)
    cleaned["name"] = (cleaned.get("name") or "").strip()
    if not cleaned["name"]:
        raise ValidationError({"name": _("This field is required.")})
    if len(cleaned["name"]) > 120:
        raise ValidationError({"name": _("At most %(n)d characters.") % {"n": 120}})
    group = cleaned.get("group")
    if group is None or not SupportGroup.objects.filter(pk=group.pk).exists():
        raise ValidationError({"group": _("Choose the group the rule sends tickets to; this one no longer exists.")})
    _check_choice(cleaned.get("kind", ""), Ticket.Kind.values, "kind")
    _check_choice(cleaned.get("channel", ""), Ticket.Channel.values, "channel")
    for name in ("priority", "set_priority"):
        value = cleaned.get(name)
        if value is not None and value not in (1, 2, 3, 4):
            raise ValidationError({name: _("The priority must be between 1 and 4.")})
    organisation: Organisation | None = cleaned.get("organisation")
    department: Department | None = cleaned.get("department")
    if department is not None and organisation is not None and department.organisation_id != organisation.pk:
        raise ValidationError({"department": _("The department belongs to another organisation.")})
    for name in ("category", "set_category"):
        category = cleaned.get(name)
        if category is not None and not category.is_active:
            raise ValidationError({name: _("This category is no longer in use.")})
    cleaned["words"] = "\n".join(parse_words(cleaned.get("words", "")))
    if len(cleaned["words"]) > MAX_WORDS:
        raise ValidationError({"words": _("At most %(n)d characters.") % {"n": MAX_WORDS}})
    tags = split_tags(cleaned.get("add_tags", ""))
    if len(tags) > MAX_TAGS:
        raise ValidationError({"add_tags": _("At most %(n)d tags.") % {"n": MAX_TAGS}})
    cleaned["add_tags"] = ", ".join(tags)
    cleaned["mailbox"] = (cleaned.get("mailbox") or "").strip().lower()
    return _clean_asset_conditions(cleaned)


def _clean_asset_conditions(cleaned: dict[str, Any]) -> dict[str, Any]:
    cleaned["asset_type"] = (cleaned.get("asset_type") or "").strip().lower()
    if cleaned["asset_type"] and not AssetType.objects.filter(slug=cleaned["asset_type"]).exists():
        raise ValidationError({"asset_type": _("No asset type has this identifier.")})
    _check_choice(cleaned.get("asset_status") or "", Asset.Status.values, "asset_status")
    for name, limit in (("asset_location", 600), ("business_service", 200)):
        cleaned[name] = (cleaned.get(name) or "").strip()
        if len(cleaned[name]) > limit:
            raise ValidationError({name: _("At most %(n)d characters.") % {"n": limit}})
    return cleaned


RULE_FIELDS = (
    "name",
    "is_active",
    "kind",
    "category",
    "channel",
    "organisation",
    "department",
    "priority",
    "words",
    "mailbox",
    "group",
    "set_category",
    "set_priority",
    "add_tags",
    "asset_type",
    "asset_status",
    "asset_location",
    "business_service",
)


@transaction.atomic
def create_rule(*, by: User | None, name: str, group: SupportGroup | None, **fields: Any) -> RoutingRule:
    """Add a rule at the end of the list. Conditions left empty match anything."""
    routing_permissions.require(by, "manage_rules")
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    cleaned = _clean_rule({**fields, "name": name, "group": group})
    last = RoutingRule.objects.aggregate(last=Max("position"))["last"]
    rule = RoutingRule.objects.create(position=0 if last is None else last + 1, **cleaned)
    audit.record("routing_rule.created", actor=by, target=rule, changes=audit.diff({}, cleaned))
    _bump()
    return rule


@transaction.atomic
def update_rule(rule: RoutingRule, *, by: User | None, **fields: Any) -> RoutingRule:
    """Change a rule's name, conditions, actions or active flag (only the fields given)."""
    routing_permissions.require(by, "manage_rules")
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    current = {name: getattr(rule, name) for name in RULE_FIELDS}
    cleaned = _clean_rule({**current, **fields})
    for name, value in cleaned.items():
        setattr(rule, name, value)
    rule.updated_at = timezone.now()
    rule.save()
    audit.record("routing_rule.changed", actor=by, target=rule, changes=audit.diff(current, cleaned))
    _bump()
    return rule


@transaction.atomic
def set_rule_active(rule: RoutingRule, *, by: User | None, active: bool) -> RoutingRule:
    routing_permissions.require(by, "manage_rules")
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if active and rule.group_id is None:
        raise ValidationError({"group": _("This rule's group was deleted: choose another group before turning it on.")})
    changes = audit.diff({"is_active": rule.is_active}, {"is_active": active})
    rule.is_active = active
    rule.updated_at = timezone.now()
    rule.save(update_fields=["is_active", "updated_at"])
    audit.record("routing_rule.changed", actor=by, target=rule, changes=changes)
    _bump()
    return rule


@transaction.atomic
def delete_rule(rule: RoutingRule, *, by: User | None) -> None:
    routing_permissions.require(by, "manage_rules")
    audit.record("deleted", actor=by, target=rule)
    RoutingRule.objects.filter(pk=rule.pk).delete()
    _bump()


@transaction.atomic
def move_rule(rule: RoutingRule, *, by: User | None, up: bool) -> RoutingRule:
    """Swap the rule with the one above (``up``) or below it; positions are renumbered 0..n."""
    routing_permissions.require(by, "manage_rules")
    moved = ordering.move(RoutingRule.objects.all(), rule.pk, up=up)
    _bump()
    return moved


@transaction.atomic
def reorder_rules(*, by: User | None, ids: list[int]) -> list[RoutingRule]:
    """Put every rule in the order of ``ids`` (each rule's id exactly once; the first is tried
    first). A list with a duplicate, an unknown or a missing id changes nothing."""
    routing_permissions.require(by, "manage_rules")
    ordered = ordering.reorder(RoutingRule.objects.all(), ids)
    audit.record("routing_rule.reordered", actor=by, target=None, changes={"order": [None, ids]})
    _bump()
    return ordered
