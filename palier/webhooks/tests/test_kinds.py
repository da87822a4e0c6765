"""Which history events become which webhook types (pure)."""

from __future__ import annotations

from palier.webhooks import kinds


def test_ticket_events_map_to_their_types() -> None:
    assert kinds.ticket_type("created", {}) == "ticket.created"
    assert kinds.ticket_type("escalated", {}) == "ticket.updated"
    assert kinds.ticket_type("noted", {}) == "ticket.commented"
    assert kinds.ticket_type("sla_breach", {}) == "sla.breach"
    assert kinds.ticket_type("approval", {"decision": "asked"}) == "approval.requested"
    assert kinds.ticket_type("approval", {"decision": "approved"}) == "approval.decided"
    assert kinds.ticket_type("approval", {"decision": "skipped"}) is None
    assert kinds.ticket_type("watched", {}) is None  # not offered


def test_every_type_produced_is_offered() -> None:
    produced = {kinds.problem_type(k) for k in ("created", "status", "comment", "asset_linked")}
    produced |= {kinds.change_type(k) for k in ("created", "status", "comment", "approval", "risk")}
    produced |= {
        t for k in ("created", "changed", "status", "commented", "sla_warning") if (t := kinds.ticket_type(k, {}))
    }
    assert produced <= set(kinds.TYPES)
