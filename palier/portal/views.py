"""Requester portal: get help, follow "My requests", talk with the support team.

The portal always shows the requester's view of a ticket: public replies and events only, even
when an agent opens it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from palier.lib.errors import DomainError
from palier.lib.web import AuthedRequest, apply_errors, signed_in
from palier.people.models import User
from palier.portal.forms import ReplyForm, SearchForm, TicketForm, TransitionForm
from palier.tickets import display, downloads, permissions, selectors, services
from palier.tickets.models import Ticket
from palier.tickets.rules import allowed_targets

S = Ticket.Status
ACTION_LABELS = {
    S.CANCELLED: gettext_lazy("Withdraw my request"),
    S.IN_PROGRESS: gettext_lazy("Reopen: it is not solved"),
    S.CLOSED: gettext_lazy("Confirm it is solved"),
}


@signed_in
def home(request: AuthedRequest) -> HttpResponse:
    page = selectors.ticket_page(
        request.user, filters=selectors.TicketFilters(requester=request.user.pk, open_only=True), limit=5
    )
    return render(request, "portal/home.html", {"open_requests": page.items, "search_form": SearchForm()})


@signed_in
def ticket_new(request: AuthedRequest) -> HttpResponse:
    form = TicketForm(request.POST or None, request.FILES or None, categories=selectors.category_choices())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.open_ticket_with_files(
                requester=request.user,
                by=request.user,
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
    form = SearchForm(request.GET)
    q, cursor = (form.cleaned_data["q"], form.cleaned_data["cursor"]) if form.is_valid() else ("", "")
    filters = selectors.TicketFilters(requester=request.user.pk, q=q)
    try:
        page = selectors.ticket_page(
            request.user, filters=filters, cursor=cursor or None, limit=settings.PALIER_PAGE_SIZE
        )
    except selectors.BadCursor:
        page = selectors.ticket_page(request.user, filters=filters, limit=settings.PALIER_PAGE_SIZE)
    context = {"page": page, "search_form": form, "q": q}
    return render(request, "portal/tickets/list.html", context)


def _actions(user: User, ticket: Ticket) -> list[tuple[str, str]]:
    """Buttons the requester may press: withdraw, reopen, confirm solved."""
    if not permissions.can(user, "transition", ticket, seen=True) or user.pk != ticket.requester_id:
        return []
    allowed = allowed_targets(ticket.status, as_requester=True)
    return [(status, str(label)) for status, label in ACTION_LABELS.items() if status in allowed]


def _detail(
    request: AuthedRequest, ticket: Ticket, *, reply_form: ReplyForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "ticket": ticket,
        "explanation": display.status_explanation(ticket.status),
        "timeline": display.timeline_items(selectors.public_timeline(ticket)),
        "files": selectors.ticket_files(request.user, ticket),
        "can_reply": permissions.can(request.user, "comment", ticket, seen=True),
        "actions": _actions(request.user, ticket),
        "reply_form": reply_form or ReplyForm(),
        "error": error,
    }
    return render(request, "portal/tickets/detail.html", context, status=status)


@signed_in
def ticket_detail(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    return _detail(request, selectors.get_ticket_for(request.user, ticket_id))


@signed_in
@require_POST
def ticket_reply(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
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
