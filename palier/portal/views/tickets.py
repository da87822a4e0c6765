"""Requester portal: get help, follow "My requests", talk with the support team.

The portal always shows the requester's view of a ticket: public replies and events only, even
when an agent opens it. Lists always carry ``requester=<me>`` on top of the permission filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from palier.assets import selectors as asset_selectors
from palier.assets import services as asset_services
from palier.catalog import selectors as catalog_selectors
from palier.lib.errors import DomainError
from palier.lib.uploads import add_upload_errors, limit_uploads
from palier.lib.web import apply_errors, signed_in
from palier.mail import selectors as mail_selectors
from palier.people.http import AuthedRequest
from palier.people.models import User
from palier.portal.forms.tickets import (
    ALL,
    STATE_CHOICES,
    ReplyForm,
    SearchForm,
    TicketForm,
    TransitionForm,
    chosen_devices,
)
from palier.problems import selectors as problem_selectors
from palier.sla import selectors as sla_selectors
from palier.surveys import selectors as survey_selectors
from palier.tickets import display, downloads, permissions, selectors, services
from palier.tickets.models import Ticket
from palier.tickets.rules import allowed_targets

S = Ticket.Status
ACTION_LABELS = {
    S.CLOSED: gettext_lazy("Confirm it is solved"),
    S.IN_PROGRESS: gettext_lazy("Reopen: it is not solved"),
    S.CANCELLED: gettext_lazy("Withdraw my request"),
}
LIST = "portal/tickets/list.html"
HOME_LIMIT = 5


@dataclass
class RequestRow:
    """One of my requests, as the lists show it (no queries left to run)."""

    ticket: Ticket
    status_label: str
    needs_me: bool


def _rows(tickets: list[Ticket]) -> list[RequestRow]:
    return [RequestRow(t, display.requester_status_label(t.status), display.needs_requester(t.status)) for t in tickets]


@signed_in
def home(request: AuthedRequest) -> HttpResponse:
    filters = SearchForm({}).to_filters(request.user)  # my open requests
    page = selectors.ticket_page(request.user, filters=filters, sort="-updated", limit=HOME_LIMIT)
    context = {"rows": _rows(page.items), "more": page.next_cursor is not None, "search_form": SearchForm()}
    return render(request, "portal/home.html", context)


@signed_in
@limit_uploads
def ticket_new(request: AuthedRequest) -> HttpResponse:
    form = TicketForm(
        request.POST or None,
        request.FILES or None,
        categories=selectors.category_choices(),
        devices=asset_selectors.own_assets_choices(request.user),
    )
    add_upload_errors(request, form)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = asset_services.open_ticket_with_assets(
                requester=request.user,
                by=request.user,
                assets=chosen_devices(form),
                uploads=data["attachments"],
                kind=data["kind"],
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                impact=data["impact"],
                urgency=data["urgency"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your request %(ref)s is registered.") % {"ref": ticket.reference})
            return redirect("portal:ticket-detail", ticket_id=ticket.pk)
    status = 400 if form.is_bound else 200
    return render(request, "portal/tickets/new.html", {"form": form}, status=status)


@signed_in
def ticket_list(request: AuthedRequest) -> HttpResponse:
    """My requests: open / closed / all tabs, a search, keyset pages. htmx gets the results only."""
    form = SearchForm(request.GET)
    filters = form.to_filters(request.user)
    size = settings.PALIER_PAGE_SIZE
    try:
        page = selectors.ticket_page(request.user, filters=filters, cursor=form.value("cursor") or None, limit=size)
    except selectors.BadCursor:
        page = selectors.ticket_page(request.user, filters=filters, limit=size)
    state, q = form.current_state, form.value("q")
    context = {
        "rows": _rows(page.items),
        "next_cursor": page.next_cursor,
        "is_first_page": not form.value("cursor"),
        "search_form": form,
        "q": q,
        "state": state,
        "tabs": [(value, label) for value, label in STATE_CHOICES],
        "searching_all": bool(q) and state == ALL,
    }
    template = f"{LIST}#results" if request.htmx else LIST
    return render(request, template, context)


def _actions(user: User, ticket: Ticket) -> list[tuple[str, str]]:
    """Buttons the requester may press: confirm solved, reopen, withdraw."""
    if not permissions.can(user, "transition", ticket, seen=True) or user.pk != ticket.requester_id:
        return []
    allowed = allowed_targets(ticket.status, as_requester=True)
    return [(status, str(label)) for status, label in ACTION_LABELS.items() if status in allowed]


def _detail(
    request: AuthedRequest, ticket: Ticket, *, reply_form: ReplyForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "ticket": ticket,
        "status_label": display.requester_status_label(ticket.status),
        "explanation": display.status_explanation(ticket.status),
        "steps": display.requester_steps(ticket.status),
        "needs_me": display.needs_requester(ticket.status) and ticket.requester_id == request.user.pk,
        "timeline": display.timeline_items(selectors.public_timeline(ticket)),
        "files": selectors.ticket_files(request.user, ticket),
        "can_reply": permissions.can(request.user, "comment", ticket, seen=True),
        "actions": _actions(request.user, ticket),
        "reply_form": reply_form or ReplyForm(),
        "error": error,
        "sla_expectation": sla_selectors.requester_expectation(ticket),
        "catalog_request": catalog_selectors.request_for_ticket(request.user, ticket),
        "email_quotes": mail_selectors.email_quotes(ticket=ticket, user=request.user),
        "survey": survey_selectors.portal_survey(request.user, ticket),
        "devices": asset_selectors.ticket_assets(request.user, ticket.pk),
        "known_problem": problem_selectors.public_problem_for(ticket),
    }
    return render(request, "portal/tickets/detail.html", context, status=status)


@signed_in
def ticket_detail(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    return _detail(request, selectors.get_ticket_for(request.user, ticket_id))


@signed_in
@require_POST
@limit_uploads
def ticket_reply(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    add_upload_errors(request, form)
    if form.is_valid():
        try:
            services.comment_on_ticket(
                ticket, by=request.user, body=form.cleaned_data["body"], uploads=form.cleaned_data["attachments"]
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Your reply is sent."))
            return redirect("portal:ticket-detail", ticket_id=ticket.pk)
    return _detail(request, ticket, reply_form=form, status=400)


@signed_in
@require_POST
def ticket_transition(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _detail(request, ticket, error=_("This action is not available."), status=400)
    try:
        services.transition_ticket(
            ticket, to=form.cleaned_data["to"], by=request.user, expected_version=form.cleaned_data["version"]
        )
    except (ValidationError, DomainError) as exc:
        message = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        return _detail(request, selectors.get_ticket_for(request.user, ticket_id), error=message, status=409)
    messages.success(request, _("Your request is updated."))
    return redirect("portal:ticket-detail", ticket_id=ticket.pk)


@signed_in
def attachment(request: AuthedRequest, attachment_id: int) -> FileResponse:
    """Download a file: only from a ticket the user may see, internal files for agents only."""
    return downloads.attachment_response(selectors.get_attachment_for(request.user, attachment_id))
