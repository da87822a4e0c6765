"""Writes of the automation app, split by sub-domain; import from here.

- ``rules``: the admin's rule list, its validation and per-process cache, disabling broken rules;
- ``engine``: the ticket event stream consumer, SLA warnings and breaches, loop protection;
- ``execute``: running one rule's actions on one ticket as the automation user;
- ``timed``: time-based rules ("pending requester for 72 business hours");
- ``webhooks``: signed outgoing webhooks with retries;
- ``recurring``: recurring tickets.
"""

from __future__ import annotations

from palier.automation.services.engine import handle_events
from palier.automation.services.recurring import (
    create_recurring,
    describe_schedule,
    run_due_recurring,
    set_recurring_active,
    update_recurring,
)
from palier.automation.services.rules import (
    active_rules,
    check_references,
    create_rule,
    delete_rule,
    disable_rule,
    move_rule,
    reorder_rules,
    robot,
    set_rule_active,
    update_rule,
)
from palier.automation.services.subject_engine import run_start_soon
from palier.automation.services.timed import run_timers
from palier.automation.services.webhooks import adopt as adopt_webhook
from palier.automation.services.webhooks import deliver as deliver_webhook

__all__ = [
    "active_rules",
    "adopt_webhook",
    "check_references",
    "create_recurring",
    "create_rule",
    "delete_rule",
    "deliver_webhook",
    "describe_schedule",
    "disable_rule",
    "handle_events",
    "move_rule",
    "reorder_rules",
    "robot",
    "run_due_recurring",
    "run_start_soon",
    "run_timers",
    "set_recurring_active",
    "set_rule_active",
    "update_recurring",
    "update_rule",
]
