"""Survey pieces of the ticket pages: ``{% load survey_tags %}`` then ``{% portal_survey ticket %}``
(the requester's "How did we do?" box) and ``{% agent_survey_score ticket %}`` (the score in the
agent's side column). Each reads one row."""

from __future__ import annotations

from typing import Any

from django import template

from palier.surveys import selectors, services
from palier.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("portal/surveys/box.html", takes_context=True)
def portal_survey(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    survey = selectors.portal_survey(user, ticket) if user is not None and user.is_authenticated else None
    return {"survey": survey, "ticket": ticket}


@register.inclusion_tag("agent/surveys/score.html")
def agent_survey_score(ticket: Ticket) -> dict[str, Any]:
    response = selectors.response_for_ticket(ticket)
    return {"response": response, "scores": services.SCORES}
