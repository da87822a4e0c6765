"""The dashboards: the team's (managers: their groups; administrators: every group) and each
agent's own ("My figures"). The filter form swaps the panels with htmx (``dashboard.html#body``);
bad filters answer 400 with the message under each field and nothing computed. ``format=pdf``
answers the same dashboard as an A4 PDF."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from palier.agent.forms.reports import ReportFilterForm
from palier.lib.web import agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.reports import charts, dashboards, pdf, permissions

PAGE = "agent/reports/dashboard.html"


def _dashboard(request: AuthedRequest, *, personal: bool) -> HttpResponse:
    if not permissions.can(request.user, "view_personal" if personal else "view_team"):
        raise Http404("dashboard")
    params = request.GET.copy()
    if not params.get("period"):  # a bound form ignores its initial value: show the period computed
        params["period"] = dashboards.DEFAULT_PERIOD
    form = ReportFilterForm(params, choices=dashboards.filter_choices(request.user, personal=personal))
    board = None
    try:
        board = dashboards.build_dashboard(
            viewer=request.user, params=params, zone=dashboards.viewer_zone(request.user), personal=personal
        )
    except ValidationError as exc:
        apply_errors(form, exc)
    query = params.copy()
    query.pop("format", None)
    query["tz"] = dashboards.viewer_zone(request.user).key
    if personal:
        query["personal"] = "true"
    pdf_query = params.copy()
    pdf_query["format"] = "pdf"
    context = {
        "form": form,
        "board": board,
        "personal": personal,
        "export_query": query.urlencode(),
        "pdf_query": pdf_query.urlencode(),
    }
    status = 200 if board is not None else 400
    if board is not None and request.GET.get("format") == "pdf":
        return _pdf(request, context, personal=personal)
    if request.htmx:
        return render(request, f"{PAGE}#body", context, status=status)
    return render(request, PAGE, context, status=status)


def _pdf(request: AuthedRequest, context: dict[str, Any], *, personal: bool) -> HttpResponse:
    """The same dashboard as an A4 PDF (503 with the reason when the server cannot draw PDFs)."""
    html = render_to_string("agent/reports/pdf.html", context, request=request)
    try:
        document = pdf.render(html)
    except pdf.PdfUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    name = "my-figures" if personal else "dashboard"
    board = context["board"]
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}-{board.period.first}-{board.period.last}.pdf"'
    return response


@agent_required
def team(request: AuthedRequest) -> HttpResponse:
    """The team dashboard: managers and administrators."""
    return _dashboard(request, personal=False)


@agent_required
def personal(request: AuthedRequest) -> HttpResponse:
    """ "My figures": every agent, the tickets assigned to them."""
    return _dashboard(request, personal=True)


@require_GET
def charts_css(request: HttpRequest) -> HttpResponse:
    """The charts' stylesheet (``reports.charts.stylesheet``): the same for everyone, no data."""
    response = HttpResponse(charts.stylesheet(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response
