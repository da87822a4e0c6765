"""Writes of the SLA engine, split by sub-domain and re-exported here.

- ``calendars.py``: validate and save business calendars; build the pure calendar of a row.
- ``policies.py``: validate and save SLA policies; which policy a ticket falls under.
- ``clocks.py``: one clock's primitives (start, pause, resume, stop, re-target) with their timeline rows.
- ``engine.py``: the reactions to ticket changes (ticket hooks).
- ``sweep.py``: warnings, breaches and their actions, exactly once.
- ``bulk.py``: clocks for many tickets at once.
"""

from palier.sla.services.bulk import settle_clocks_for_ended_tickets, start_clocks_for_open_tickets
from palier.sla.services.calendars import (
    add_holiday,
    change_calendar,
    create_calendar,
    delete_holiday,
    upcoming_holidays,
    update_calendar,
    validate_calendar,
)
from palier.sla.services.engine import react, ticket_changed, tickets_opened, tickets_placed
from palier.sla.services.policies import (
    change_policy,
    create_policy,
    policy_for,
    update_policy,
    validate_actions,
    validate_policy,
)
from palier.sla.services.sweep import sweep, sweep_all

__all__ = [
    "add_holiday",
    "change_calendar",
    "change_policy",
    "create_calendar",
    "create_policy",
    "delete_holiday",
    "policy_for",
    "react",
    "settle_clocks_for_ended_tickets",
    "start_clocks_for_open_tickets",
    "sweep",
    "sweep_all",
    "ticket_changed",
    "tickets_opened",
    "tickets_placed",
    "upcoming_holidays",
    "update_calendar",
    "update_policy",
    "validate_actions",
    "validate_calendar",
    "validate_policy",
]
