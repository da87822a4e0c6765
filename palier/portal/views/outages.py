"""The portal's known outages (major incidents, docs/problems.md): an outage's page with its
public status note and the updates published to the portal, "I am affected too", following it
by email, and the "known outage" panel of the new-request page. Requesters never see internal
notes nor the desk's ticket."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from palier.lib.errors import DomainError, NotFound
from palier.lib.web import signed_in
from palier.people.http import AuthedRequest
from palier.problems import major_selectors as selectors
from palier.problems import services
from palier.problems.models import MajorIncident


def _outage(request: AuthedRequest, major_id: int) -> MajorIncident:
    try:
        return selectors.outage_for(request.user, major_id)
    except NotFound:
        raise Http404("outage") from None


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


@signed_in
@require_GET
def detail(request: AuthedRequest, major_id: int) -> HttpResponse:
    major = _outage(request, major_id)
    context = {
        "major": major,
        "updates": selectors.portal_updates(major),
        "subscription": selectors.subscription_of(major, request.user),
    }
    return render(request, "portal/outages/detail.html", context)


def _act(request: AuthedRequest, major_id: int, action: str) -> HttpResponse:
    major = _outage(request, major_id)
    try:
        if action == "affected":
            services.report_affected(major, request.user)
            text = _("Thank you: we count you among the people affected and will tell you by email.")
        elif action == "subscribe":
            services.subscribe(major, request.user)
            text = _("You will be told about this outage by email.")
        else:
            services.unsubscribe(major, request.user)
            text = _("You will no longer be told about this outage.")
    except (ValidationError, DomainError) as exc:
        if request.htmx:
            return render(request, "portal/outages/includes/done.html", {"error": _error_text(exc)}, status=409)
        messages.error(request, _error_text(exc))
        return redirect("outages:detail", major_id=major.pk)
    if request.htmx:
        return render(request, "portal/outages/includes/done.html", {"text": text, "major": major})
    messages.success(request, text)
    return redirect("outages:detail", major_id=major.pk)


@signed_in
@require_POST
def affected(request: AuthedRequest, major_id: int) -> HttpResponse:
    """ "I am affected too": subscribed and counted, no ticket opened."""
    return _act(request, major_id, "affected")


@signed_in
@require_POST
def subscribe(request: AuthedRequest, major_id: int) -> HttpResponse:
    return _act(request, major_id, "subscribe")


@signed_in
@require_POST
def unsubscribe(request: AuthedRequest, major_id: int) -> HttpResponse:
    return _act(request, major_id, "unsubscribe")


@signed_in
@require_GET
def match(request: AuthedRequest) -> HttpResponse:
    """The new-request page's panel: ongoing outages matching what the person types (``q``, or
    the form's ``subject``)."""
    text = " ".join(request.GET.get(name, "").strip() for name in ("q", "subject"))[:2000]
    outages = selectors.match_outages(request.user, text)
    return render(request, "portal/outages/includes/match.html", {"outages": outages})
