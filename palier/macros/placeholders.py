"""Macro placeholders: which exist, checking a text for unknown ones, and filling them in.

No database access: the caller passes the values. A placeholder is a lowercase name between
braces, ``{ticket_number}``; any other brace text is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PATTERN = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

PLACEHOLDERS: dict[str, Promise] = {
    "requester_name": _("the requester's full name"),
    "requester_first_name": _("the requester's first name"),
    "ticket_number": _("the ticket reference, e.g. INC-1042"),
    "ticket_subject": _("the ticket subject"),
    "agent_name": _("your name"),
    "ticket_link": _("the link to the ticket in the portal"),
}


def unknown_placeholders(text: str) -> list[str]:
    """The placeholder names used in ``text`` that do not exist, in order of appearance."""
    seen: list[str] = []
    for name in PATTERN.findall(text):
        if name not in PLACEHOLDERS and name not in seen:
            seen.append(name)
    return seen


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each known placeholder by its value; unknown ones stay as written."""
    return PATTERN.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def first_name(full_name: str, email: str) -> str:
    name = full_name.strip()
    if name:
        return name.split()[0]
    return email.split("@", 1)[0]
