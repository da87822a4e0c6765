"""What an export holds: one JSON Lines file per kind, with these keys, in this order.

This is the documented schema (docs/data-export.md repeats it with each key's meaning); a test
checks that every line of every file has exactly these keys. Keys ending in ``_id`` (and the
lists ending in ``_ids``) refer to the ``id`` of another kind of the same export. Times are ISO
8601 in UTC. Nothing secret is exported: no password hashes, API tokens or mailbox credentials.
"""

from __future__ import annotations

FORMAT = "palier-export"
VERSION = 1

FIELDS: dict[str, tuple[str, ...]] = {
    "organisations": ("id", "name", "email_domain", "share_tickets", "created_at"),
    "departments": ("id", "organisation_id", "name"),
    "users": (
        "id",
        "email",
        "full_name",
        "role",
        "language",
        "phone",
        "organisation_id",
        "department_id",
        "is_active",
        "date_joined",
    ),
    "groups": ("id", "name", "level", "is_vendor", "vendor_company", "email"),
    "categories": ("id", "parent_id", "slug", "name_en", "name_fr", "is_active"),
    "tickets": (
        "id",
        "kind",
        "number",
        "subject",
        "description",
        "requester_id",
        "organisation_id",
        "category_id",
        "impact",
        "urgency",
        "priority",
        "status",
        "group_id",
        "assignee_id",
        "channel",
        "created_by_id",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "vendor_reference",
        "resolved_level",
        "tags",
        "watcher_ids",
    ),
    "comments": ("id", "ticket_id", "author_id", "body", "is_internal", "channel", "created_at"),
    "events": ("id", "ticket_id", "kind", "actor_id", "is_internal", "data", "created_at"),
    "attachments": (
        "id",
        "ticket_id",
        "comment_id",
        "filename",
        "content_type",
        "size",
        "sha256",
        "is_internal",
        "uploaded_by_id",
        "created_at",
        "scan_status",
        "member",
    ),
    "links": ("id", "source_id", "target_id", "kind", "created_at"),
    "memberships": ("id", "group_id", "user_id", "joined_at"),
    # assets and configuration items (docs/assets.md); licence keys are never exported
    "asset_types": ("id", "slug", "name_fr", "name_en", "family", "inventoried", "fields", "position", "active"),
    "suppliers": ("id", "name", "email", "phone", "website", "notes"),
    "locations": ("id", "parent_id", "name", "kind", "path", "depth", "address", "organisation_id"),
    "assets": (
        "id",
        "tag",
        "type_id",
        "name",
        "serial",
        "manufacturer",
        "model",
        "status",
        "assigned_to_id",
        "location_id",
        "organisation_id",
        "department_id",
        "owner_group_id",
        "supplier_id",
        "purchase_date",
        "purchase_cost",
        "warranty_end",
        "notes",
        "criticality",
        "attributes",
        "inventory",
        "last_inventory_at",
        "version",
        "created_at",
        "updated_at",
    ),
    "relationships": ("id", "source_id", "target_id", "kind", "created_at", "created_by_id"),
    "installations": ("id", "asset_id", "name", "publisher", "version", "product", "installed_on", "from_inventory"),
    "licences": ("id", "asset_id", "product", "publisher", "seats", "expires_on"),
    "seats": ("id", "licence_id", "user_id", "machine_id", "assigned_at", "assigned_by_id"),
    "ticket_assets": ("id", "ticket_id", "asset_id", "added_at", "added_by_id"),
    "asset_events": ("id", "asset_id", "kind", "actor_id", "data", "at"),
}

ASSET_KINDS = (
    "asset_types",
    "suppliers",
    "locations",
    "assets",
    "relationships",
    "installations",
    "licences",
    "seats",
    "ticket_assets",
    "asset_events",
)

# the order the files are written in (users last: an organisation's export holds the people its
# rows name, which are known once the rows are written)
KINDS = (
    "organisations",
    "departments",
    "categories",
    "tickets",
    "comments",
    "events",
    "attachments",
    "links",
    *ASSET_KINDS,
    "groups",
    "users",
    "memberships",
)

# kinds an archive of format version 1 may lack (added after the first exports were written):
# the import reads a missing one as empty
OPTIONAL_KINDS = frozenset({"memberships", *ASSET_KINDS})
