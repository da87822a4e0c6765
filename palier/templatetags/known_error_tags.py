"""Known-error pieces of the agent pages: ``{% load known_error_tags %}`` then
``{% known_error_suggestions ticket %}`` (the ticket page's side column: known errors that may
explain an open incident, with "Apply the workaround"; at most two queries, none for a request or
a finished ticket) and ``{% problem_url problem_id %}`` (a problem's page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse

from palier.problems import search
from palier.tickets.models import Ticket

register = template.Library()


@register.simple_tag
def problem_url(problem_id: int) -> str:
    try:
        return reverse("problems:detail", args=[problem_id])
    except NoReverseMatch:  # the problem pages are mounted by their own urlconf
        return f"/agent/problems/{int(problem_id)}/"


@register.inclusion_tag("agent/known_errors/suggestions.html", takes_context=True)
def known_error_suggestions(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    suggestions = search.suggestions_for(user, ticket) if user is not None else []
    return {"ticket": ticket, "suggestions": suggestions, "csrf_token": context.get("csrf_token")}
