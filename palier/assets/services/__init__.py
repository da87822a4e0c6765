"""Writes on assets, split by sub-domain and re-exported here."""

from .assets import (
    EDITABLE,
    TRANSITIONS,
    change_status,
    create_asset,
    update_asset,
)
from .relations import relate, unrelate
from .tickets import link_ticket, open_ticket_with_assets, unlink_ticket

__all__ = [
    "EDITABLE",
    "TRANSITIONS",
    "change_status",
    "create_asset",
    "link_ticket",
    "open_ticket_with_assets",
    "relate",
    "unlink_ticket",
    "unrelate",
    "update_asset",
]
