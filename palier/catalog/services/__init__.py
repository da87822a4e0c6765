"""Catalog writes, split by sub-domain; import from here: ``from palier.catalog import services``."""

from __future__ import annotations

from palier.catalog.services.admin import (
    delete_category,
    move_part,
    place_part,
    remove_part,
    save_category,
    save_field,
    save_item,
    save_stage,
    save_task,
)
from palier.catalog.services.approvals import AlreadyDecided, decide, open_next_step, withdraw_approvals
from palier.catalog.services.delegation import end_delegation, set_delegation
from palier.catalog.services.fulfilment import on_ticket_change, start_fulfilment
from palier.catalog.services.requests import describe, submit_request

__all__ = [
    "AlreadyDecided",
    "decide",
    "delete_category",
    "describe",
    "end_delegation",
    "move_part",
    "on_ticket_change",
    "open_next_step",
    "place_part",
    "remove_part",
    "save_category",
    "save_field",
    "save_item",
    "save_stage",
    "save_task",
    "set_delegation",
    "start_fulfilment",
    "submit_request",
    "withdraw_approvals",
]
