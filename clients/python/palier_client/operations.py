"""Every operation the client calls, as data: method, path, and the body fields it sends.

``tests/test_contract.py`` checks this table against the server's OpenAPI document
(``/api/v1/openapi.json``): each path and method must exist, every field the client may send must
be a property of the request body, and every field the body requires must be one the client
always sends. A change of the API that breaks the client fails there, not in a user's script.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # relative to /api/v1, with {placeholders} as in the OpenAPI document
    sends: frozenset[str] = frozenset()  # body fields the client always sends
    may_send: frozenset[str] = frozenset()  # body fields the client sends when asked to
    params: frozenset[str] = frozenset()  # query parameters the client may send


PAGE = frozenset({"cursor", "limit"})
TICKET_FILTERS = PAGE | {
    "status",
    "kind",
    "priority",
    "group",
    "assignee",
    "unassigned",
    "requester",
    "category",
    "organisation",
    "created_after",
    "created_before",
    "q",
    "sort",
}


TICKET_FIELDS = frozenset(
    {"description", "kind", "category", "impact", "urgency", "requester", "group", "assignee", "tags", "channel"}
)
PATCH_FIELDS = frozenset(
    {"subject", "description", "kind", "category", "impact", "urgency", "group", "assignee", "tags", "version"}
)

OPERATIONS: dict[str, Operation] = {
    "tickets.list": Operation("GET", "/tickets", params=TICKET_FILTERS),
    "tickets.get": Operation("GET", "/tickets/{ticket_id}"),
    "tickets.by_reference": Operation("GET", "/tickets/by-reference/{reference}"),
    "tickets.create": Operation("POST", "/tickets", frozenset({"subject"}), TICKET_FIELDS),
    "tickets.update": Operation("PATCH", "/tickets/{ticket_id}", frozenset(), PATCH_FIELDS),
    "tickets.transition": Operation(
        "POST", "/tickets/{ticket_id}/transitions", frozenset({"status"}), frozenset({"note", "version"})
    ),
    "tickets.comment": Operation("POST", "/tickets/{ticket_id}/comments", frozenset({"body"}), frozenset({"internal"})),
    "tickets.comments": Operation("GET", "/tickets/{ticket_id}/comments", params=PAGE),
    "tickets.history": Operation("GET", "/tickets/{ticket_id}/history", params=PAGE),
    "tickets.bulk": Operation("POST", "/tickets/bulk", frozenset({"items"}), frozenset({"atomic"})),
    "tickets.bulk_update": Operation(
        "POST", "/tickets/bulk-update", frozenset({"patch", "max"}), frozenset({"filter", "dry_run"})
    ),
    "users.me": Operation("GET", "/users/me"),
    "users.list": Operation("GET", "/users", params=PAGE | {"q", "role"}),
    "users.get": Operation("GET", "/users/{object_id}"),
    "groups.list": Operation("GET", "/groups", params=PAGE),
    "categories.list": Operation("GET", "/categories"),
}

# the fields of one item of tickets.bulk (checked against the item schema the same way)
BULK_ITEM = Operation("POST", "/tickets/bulk", frozenset({"subject"}), TICKET_FIELDS | {"idempotency_key"})
