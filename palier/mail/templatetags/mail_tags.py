"""Ticket-page helpers of the mail intake: the full text (with the quoted conversation) of the
comments and the description that came by email, for the "show quoted text" toggle."""

from __future__ import annotations

from typing import Any

from django import template

from palier.mail import selectors

register = template.Library()


@register.simple_tag
def email_quotes(ticket: Any, user: Any) -> dict[Any, str]:
    """``{comment_id: full_text}`` for the ticket's emailed comments this reader may expand,
    plus ``"description"`` for the message that opened it (one query)."""
    if ticket is None or user is None or not getattr(user, "is_authenticated", False):
        return {}
    memo = getattr(ticket, "_email_quotes", None)  # the page asks twice (description, timeline)
    if memo is None or memo[0] != user.pk:
        memo = (user.pk, selectors.email_quotes(ticket=ticket, user=user))
        ticket._email_quotes = memo
    return memo[1]


@register.filter
def quoted_text(quotes: dict[Any, str] | str | None, item: Any) -> str:
    """The full text behind a timeline item (its ``comment_id``), or '' when it has none."""
    if not isinstance(quotes, dict):
        return ""
    if item == "description":
        return quotes.get("description", "")
    comment_id = getattr(item, "comment_id", None)
    return quotes.get(comment_id, "") if comment_id is not None else ""
