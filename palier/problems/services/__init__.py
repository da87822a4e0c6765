"""Writes on problems and major incidents, split by sub-domain and re-exported here."""

from .idempotent import create_once
from .major import (
    attach_incident,
    declare_major,
    detach_incident,
    publish_update,
    report_affected,
    resolve_major,
    save_review,
    send_update_emails,
    subscribe,
    unsubscribe,
)
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
    "attach_incident",
    "comment_on_problem",
    "create_once",
    "create_problem",
    "declare_major",
    "detach_incident",
    "incident_resolved",
    "link_articles",
    "link_assets",
    "link_incidents",
    "publish_update",
    "report_affected",
    "resolve_major",
    "resolve_problem",
    "save_review",
    "send_update_emails",
    "set_watching",
    "subscribe",
    "transition_problem",
    "unlink_asset",
    "unlink_incident",
    "unsubscribe",
    "update_problem",
]
