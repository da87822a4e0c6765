"""The changes on the agent's ticket page: ``{% load change_tags %}{% ticket_changes ticket %}`` shows
the changes linked to the ticket (reference, status, relation; one query) and a link to raise a
change already linked to it."""

from __future__ import annotations

from typing import Any

from django import template

from palier.changes import selectors

register = template.Library()


@register.inclusion_tag("agent/changes/ticket_panel.html", takes_context=True)
def ticket_changes(context: dict[str, Any], ticket: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    links = selectors.changes_of_ticket(user, ticket.pk) if user is not None else []
    return {"ticket": ticket, "links": links}
