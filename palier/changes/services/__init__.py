"""Writes on changes, split by sub-domain and re-exported here."""

from .changes import (
    AFTER_SAVE,
    EDITABLE,
    ON_AWAITING_APPROVAL,
    ON_LEAVE_APPROVAL,
    assess_risk,
    check_window,
    create_change,
    link_assets,
    link_problem,
    link_ticket,
    risk_from_score,
    risk_rank,
    transition_change,
    unlink_asset,
    update_change,
)
from .review import comment_on_change, review_change

__all__ = [
    "AFTER_SAVE",
    "EDITABLE",
    "ON_AWAITING_APPROVAL",
    "ON_LEAVE_APPROVAL",
    "assess_risk",
    "check_window",
    "comment_on_change",
    "create_change",
    "link_assets",
    "link_problem",
    "link_ticket",
    "review_change",
    "risk_from_score",
    "risk_rank",
    "transition_change",
    "unlink_asset",
    "update_change",
]
