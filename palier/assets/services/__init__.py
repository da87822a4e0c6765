"""Writes on assets, split by sub-domain and re-exported here."""

from .assets import (
    EDITABLE,
    TRANSITIONS,
    change_status,
    create_asset,
    update_asset,
)
from .relations import relate, unrelate
from .tickets import link_ticket, unlink_ticket

__all__ = [
    "EDITABLE",
    "TRANSITIONS",
    "change_status",
    "create_asset",
    "link_ticket",
    "relate",
    "unlink_ticket",
    "unrelate",
    "update_asset",
]
