"""Known-error pieces of the agent pages: ``{% load known_error_tags %}`` then
``{% known_error_suggestions ticket known_errors %}`` (the ticket page's side column: the known
errors that may explain an open incident, read by the view with ``search.suggestions_for``, with
"Apply the workaround"; the tag reads nothing) and ``{% problem_url problem_id %}`` (a problem's page)."""

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
def known_error_suggestions(
    context: template.Context, ticket: Ticket, suggestions: list[search.Suggestion] | None
) -> dict[str, Any]:
    return {"ticket": ticket, "suggestions": suggestions or [], "csrf_token": context.get("csrf_token")}
