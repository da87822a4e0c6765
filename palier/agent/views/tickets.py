"""Agent workspace: the ticket queue and the ticket page (timeline, reply, status, take it).

Actions answer htmx requests with the ``workspace`` partial of the ticket page and plain form
posts with a redirect, so the page works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms import FilterForm, ReplyForm, StatusForm, VersionForm
from palier.lib.errors import DomainError
from palier.lib.web import AuthedRequest, agent_required, apply_errors
from palier.people import selectors as people_selectors
from palier.tickets import display, selectors, services
from palier.tickets.models import Ticket

DETAIL = "agent/tickets/detail.html"


@agent_required
def ticket_list(request: AuthedRequest) -> HttpResponse:
    form = FilterForm(
        request.GET,
        groups=list(people_selectors.support_groups()),
        agents=list(people_selectors.active_agents()),
    )
    filters = form.to_filters(request.user)
    size = settings.PALIER_PAGE_SIZE
    try:
        page = selectors.ticket_page(
            request.user, filters=filters, sort=form.sort_order, cursor=form.page_cursor, limit=size
        )
    except selectors.BadCursor:
        page = selectors.ticket_page(request.user, filters=filters, sort=form.sort_order, limit=size)
    params = request.GET.copy()
    params.pop("cursor", None)
    if page.next_cursor:
        params["cursor"] = page.next_cursor
    context = {"form": form, "page": page, "next_query": params.urlencode() if page.next_cursor else ""}
    return render(request, "agent/tickets/list.html", context)


def _render(request: AuthedRequest, ticket: Ticket, *, status: int = 200, **forms: Any) -> HttpResponse:
    """The ticket page, or only its ``workspace`` partial for htmx requests."""
    ticket = selectors.ticket_detail_related(ticket)
    context = {
        "ticket": ticket,
        "timeline": display.timeline_items(selectors.ticket_timeline(request.user, ticket)),
        "files": selectors.ticket_files(request.user, ticket),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "status_form": forms.get("status_form") or StatusForm(ticket=ticket),
        "take_error": forms.get("take_error", ""),
        "can_take": ticket.is_open and ticket.assignee_id != request.user.pk,
    }
    if request.htmx:
        return render(request, f"{DETAIL}#workspace", context)  # htmx swaps 2xx answers only
    return render(request, DETAIL, context, status=status)


def _done(request: AuthedRequest, ticket_id: int, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return _render(request, selectors.get_ticket_for(request.user, ticket_id))
    return redirect("agent:ticket-detail", ticket_id=ticket_id)


@agent_required
def ticket_detail(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    return _render(request, selectors.get_ticket_for(request.user, ticket_id))


@agent_required
@require_POST
def ticket_reply(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        internal = form.cleaned_data["visibility"] == ReplyForm.INTERNAL
        try:
            services.comment_on_ticket(
                ticket,
                by=request.user,
                body=form.cleaned_data["body"],
                internal=internal,
                uploads=form.cleaned_data["attachments"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            return _done(request, ticket_id, _("Internal note added.") if internal else _("Reply sent."))
    return _render(request, selectors.get_ticket_for(request.user, ticket_id), reply_form=form, status=400)


@agent_required
@require_POST
def ticket_status(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = StatusForm(request.POST, ticket=ticket)
    if form.is_valid():
        try:
            services.transition_ticket(
                ticket,
                to=form.cleaned_data["status"],
                by=request.user,
                expected_version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            return _done(request, ticket_id, _("Status changed."))
    return _render(request, selectors.get_ticket_for(request.user, ticket_id), status_form=form, status=409)


@agent_required
@require_POST
def ticket_take(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Assign the ticket to the current agent ("take it")."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    form = VersionForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        services.update_ticket(ticket, by=request.user, expected_version=version, changes={"assignee": request.user})
    except (ValidationError, DomainError) as exc:
        error = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        return _render(request, selectors.get_ticket_for(request.user, ticket_id), take_error=error, status=409)
    return _done(request, ticket_id, _("The ticket is yours."))
