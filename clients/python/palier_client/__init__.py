"""A small typed client for the Palier REST API: ``from palier_client import Client``."""

from __future__ import annotations

__version__ = "0.1.0"

from palier_client.client import (
    ApiError,
    BulkItemResult,
    BulkResult,
    BulkUpdateResult,
    Client,
    Response,
    Ticket,
    TicketSummary,
    new_key,
)

__all__ = [
    "ApiError",
    "BulkItemResult",
    "BulkResult",
    "BulkUpdateResult",
    "Client",
    "Response",
    "Ticket",
    "TicketSummary",
    "__version__",
    "new_key",
]
