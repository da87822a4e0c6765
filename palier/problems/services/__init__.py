"""Writes on problems and major incidents, split by sub-domain and re-exported here."""

from .idempotent import create_once
from .problems import (
    EDITABLE,
    LinkOutcome,
    comment_on_problem,
    create_problem,
    link_articles,
    link_assets,
    link_incidents,
    transition_problem,
    unlink_asset,
    unlink_incident,
    update_problem,
)

__all__ = [
    "EDITABLE",
    "LinkOutcome",
    "comment_on_problem",
    "create_once",
    "create_problem",
    "link_articles",
    "link_assets",
    "link_incidents",
    "transition_problem",
    "unlink_asset",
    "unlink_incident",
    "update_problem",
]
