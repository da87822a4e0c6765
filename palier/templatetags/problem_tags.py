"""Problem pieces of the agent's ticket pages: ``{% load problem_tags %}`` then
``{% problem_panel ticket problem_badge %}`` (the ticket page's "Problem" panel; ``problem_badge``
from ``problems.selectors.problems_for_tickets``, put in the page's context by the view) and, in
the queue, ``{% problem_badge table.problems|badge_for:ticket.pk %}``. The views read; the tags
read nothing."""

from __future__ import annotations

from typing import Any

from django import template

from palier.problems.selectors import ProblemBadge

register = template.Library()


@register.inclusion_tag("agent/problems/ticket_panel.html", takes_context=True)
def problem_panel(context: template.Context, ticket: Any, badge: ProblemBadge | None) -> dict[str, Any]:
    return {
        "ticket": ticket,
        "badge": badge,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.inclusion_tag("agent/problems/queue_badge.html")
def problem_badge(badge: ProblemBadge | None) -> dict[str, Any]:
    return {"badge": badge}


@register.filter
def badge_for(problems: dict[int, ProblemBadge] | None, ticket_id: int) -> ProblemBadge | None:
    return (problems or {}).get(ticket_id)
