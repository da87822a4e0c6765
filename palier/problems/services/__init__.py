"""Writes on problems and major incidents, split by sub-domain and re-exported here."""

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
from .record import attach_file, set_watching
from .resolution import incident_resolved, resolve_problem

__all__ = [
    "EDITABLE",
    "LinkOutcome",
    "attach_file",
    "comment_on_problem",
    "create_problem",
    "incident_resolved",
    "link_articles",
    "link_assets",
    "link_incidents",
    "resolve_problem",
    "set_watching",
    "transition_problem",
    "unlink_asset",
    "unlink_incident",
    "update_problem",
]
