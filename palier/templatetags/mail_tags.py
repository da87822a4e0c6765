"""Ticket-page helper of the mail intake, for the "show quoted text" toggle: the view passes
``email_quotes`` (``mail.selectors.email_quotes``: the full text, with the quoted conversation, of
the comments and the description that came by email) and ``quoted_text`` picks an item's text."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def quoted_text(quotes: dict[Any, str] | str | None, item: Any) -> str:
    """The full text behind a timeline item (its ``comment_id``), or '' when it has none."""
    if not isinstance(quotes, dict):
        return ""
    if item == "description":
        return quotes.get("description", "")
    comment_id = getattr(item, "comment_id", None)
    return quotes.get(comment_id, "") if comment_id is not None else ""
