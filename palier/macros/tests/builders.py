"""Test builders for macros (through the service, like the pages)."""

from __future__ import annotations

from typing import Any

from palier.macros import services
from palier.macros.models import Macro
from palier.people.models import User


def make_macro(owner: User, **fields: Any) -> Macro:
    fields.setdefault("name", "Need more details")
    fields.setdefault("body_fr", "Bonjour {requester_first_name}, pouvez-vous préciser ({ticket_number}) ?")
    fields.setdefault("body_en", "Hello {requester_first_name}, could you tell us more ({ticket_number})?")
    return services.create_macro(by=owner, fields=services.MacroFields(**fields))
