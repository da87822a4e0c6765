"""Survey pages of the agents: the list of answers with the average score, and the settings
(organisations that opted out)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.surveys import FilterForm
from palier.lib.web import admin_required, agent_required
from palier.people.http import AuthedRequest
from palier.people.models import Organisation
from palier.surveys import selectors, services


@agent_required
def responses(request: AuthedRequest) -> HttpResponse:
    """Recent answers with their average, by group and period."""
    filters = FilterForm(request.GET or None)
    since, group = filters.since(), filters.chosen_group()
    answers = selectors.responses_visible_to(request.user, since=since, group=group)
    page = Paginator(answers, settings.PALIER_PAGE_SIZE).get_page(request.GET.get("page"))
    summary = selectors.satisfaction_summary(since=since, until=None, group=group, user=request.user)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"filters": filters, "page": page, "summary": summary, "extra": "&" + query.urlencode() if query else ""}
    return render(request, "agent/surveys/responses.html", context)


@admin_required
def survey_settings(request: AuthedRequest) -> HttpResponse:
    """Whether surveys are sent at all (a setting), and which organisations opted out."""
    organisations = selectors.organisations_with_opt_out()
    page = Paginator(organisations, settings.PALIER_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "enabled": services.surveys_enabled()}
    return render(request, "agent/surveys/settings.html", context)


@admin_required
@require_POST
def organisation_opt_out(request: AuthedRequest, organisation_id: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    opted_out = request.POST.get("opted_out") == "1"
    services.set_survey_opt_out(organisation=organisation, opted_out=opted_out, by=request.user)
    text = _("%(name)s: no more surveys.") if opted_out else _("%(name)s: surveys are sent again.")
    messages.success(request, text % {"name": organisation.name})
    return redirect("surveys:settings")
