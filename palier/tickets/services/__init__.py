"""Writes for tickets. Every change locks the ticket, checks the rules, bumps its version and
appends a ``TicketEvent`` in the same transaction.

Split by sub-domain; import from here: ``from palier.tickets import services``.
"""

from __future__ import annotations

from palier.tickets.services._common import (
    MAX_BODY,
    MAX_SUBJECT,
    MAX_TAGS,
    next_number,
    priority_for,
)
from palier.tickets.services.changes import (
    MAX_VENDOR_REFERENCE,
    change_level,
    lock_ticket,
    move_to_group,
    override_priority,
    raise_priority,
    route_ticket,
    set_sla_due,
    set_sla_dues,
    set_vendor_reference,
    vendor_reference_seen,
)
from palier.tickets.services.conversation import (
    add_attachment,
    add_watcher,
    comment_on_ticket,
    link_task,
    link_tickets,
    record_attachment_scan,
    record_reply,
    remove_watcher,
    scan_fields,
    unlink_tickets,
)
from palier.tickets.services.drafts import MAX_DRAFT, discard_draft, save_draft
from palier.tickets.services.intake import (
    create_once,
    open_ticket_idempotent,
    open_ticket_with_files,
    replay,
)
from palier.tickets.services.lifecycle import (
    UPDATABLE,
    NewTicket,
    close_resolved_tickets,
    open_ticket,
    open_tickets,
    prepare_ticket,
    transition_ticket,
    update_ticket,
)
from palier.tickets.services.merge import MAX_MERGE, merge_tickets, undo_deadline, undo_merge
from palier.tickets.services.reference import (
    change_category,
    create_category,
    set_category_active,
    set_priority_cell,
    set_priority_matrix,
    update_category,
)
from palier.tickets.services.split import split_ticket
from palier.tickets.services.workspace import (
    delete_filter,
    save_filter,
    see_ticket,
    update_filter,
)

__all__ = [
    "MAX_BODY",
    "MAX_DRAFT",
    "MAX_MERGE",
    "MAX_SUBJECT",
    "MAX_TAGS",
    "MAX_VENDOR_REFERENCE",
    "UPDATABLE",
    "NewTicket",
    "add_attachment",
    "add_watcher",
    "change_category",
    "change_level",
    "close_resolved_tickets",
    "comment_on_ticket",
    "create_category",
    "create_once",
    "delete_filter",
    "discard_draft",
    "link_task",
    "link_tickets",
    "lock_ticket",
    "merge_tickets",
    "move_to_group",
    "next_number",
    "open_ticket",
    "open_ticket_idempotent",
    "open_ticket_with_files",
    "open_tickets",
    "override_priority",
    "prepare_ticket",
    "priority_for",
    "raise_priority",
    "record_attachment_scan",
    "record_reply",
    "remove_watcher",
    "replay",
    "route_ticket",
    "save_draft",
    "save_filter",
    "scan_fields",
    "see_ticket",
    "set_category_active",
    "set_priority_cell",
    "set_priority_matrix",
    "set_sla_due",
    "set_sla_dues",
    "set_vendor_reference",
    "split_ticket",
    "transition_ticket",
    "undo_deadline",
    "undo_merge",
    "unlink_tickets",
    "update_category",
    "update_filter",
    "update_ticket",
    "vendor_reference_seen",
]
