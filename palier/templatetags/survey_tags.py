"""Survey pieces of the ticket pages: ``{% load survey_tags %}`` then ``{% portal_survey survey %}``
(the requester's "How did we do?" box; ``survey`` from ``surveys.selectors.portal_survey``) and
``{% agent_survey_score response %}`` (the score in the agent's side column; ``response`` from
``surveys.selectors.response_for_ticket``). The views read them; the tags read nothing."""

from __future__ import annotations

from typing import Any

from django import template

from palier.surveys import services
from palier.surveys.models import SurveyResponse
from palier.surveys.selectors import PortalSurvey

register = template.Library()


@register.inclusion_tag("portal/surveys/box.html")
def portal_survey(survey: PortalSurvey | None) -> dict[str, Any]:
    return {"survey": survey}


@register.inclusion_tag("agent/surveys/score.html")
def agent_survey_score(response: SurveyResponse | None) -> dict[str, Any]:
    return {"response": response, "scores": services.SCORES}
