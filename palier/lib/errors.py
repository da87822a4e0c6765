"""Domain errors raised by services and turned into HTTP answers by the interfaces.

Field validation uses Django's ``ValidationError`` (with a dict of field -> messages).
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule. ``status`` is the HTTP status interfaces use."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class IllegalTransition(DomainError):
    status = 409
    title = "Illegal transition"


class StaleVersion(DomainError):
    status = 412
    title = "Precondition failed"


class Unavailable(DomainError):
    """Palier could not finish in time (for example a creation waiting on a stuck database)."""

    status = 503
    title = "Service unavailable"
