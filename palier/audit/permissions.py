"""Who reads the audit log: active administrators only.

The audit app sits below ``people`` (every app records into it), so it cannot ask
``people.permissions.is_admin``; this is the same rule, read from the user's own fields.
"""

from __future__ import annotations

from typing import Any


def may_read(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "is_admin", False)
    )
