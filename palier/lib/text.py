"""Search text, without the database: lower case, accents removed.

One normalisation for people search and ticket search (``tickets.search.normalise`` is this one),
so "lea" finds "Léa" and "HÉLÈNE" finds "helene@…".
"""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search_text(full_name: str, email: str) -> str:
    """What people search looks in: the normalised name and email address, one space apart."""
    return f"{normalise(full_name)} {normalise(email)}".strip()
