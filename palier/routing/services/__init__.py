"""Writes of the routing app, split by sub-domain: ``rules`` (routing rules and placing tickets),
``assignment`` (strategies, availability, requeueing), ``escalation`` (levels, vendors)."""

from palier.routing.services.assignment import (
    add_absence,
    assign_in_group,
    pick_assignee,
    remove_absence,
    requeue_open_tickets,
    set_availability,
    set_skills,
    set_working_hours,
)
from palier.routing.services.escalation import (
    deescalate,
    delete_category_level_default,
    escalate,
    set_category_level_default,
    set_vendor_reference,
)
from palier.routing.services.placement import place_new_tickets
from palier.routing.services.rules import (
    create_rule,
    delete_rule,
    move_rule,
    reorder_rules,
    reroute,
    set_rule_active,
    update_rule,
)

__all__ = [
    "add_absence",
    "assign_in_group",
    "create_rule",
    "deescalate",
    "delete_category_level_default",
    "delete_rule",
    "escalate",
    "move_rule",
    "pick_assignee",
    "place_new_tickets",
    "remove_absence",
    "reorder_rules",
    "requeue_open_tickets",
    "reroute",
    "set_availability",
    "set_category_level_default",
    "set_rule_active",
    "set_skills",
    "set_vendor_reference",
    "set_working_hours",
    "update_rule",
]
