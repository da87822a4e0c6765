"""The agent queue: navigation views, the ticket table (sort, filters, keyset pages, live refresh),
bulk actions, "take it" from a row, and personal saved filters.

htmx requests get partials of ``agent/tickets/list.html``: ``table`` (polled every 15 s, and
refreshed after an action) and ``feedback`` (the result of a bulk action or of "take it").
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from palier.agent import contexts, queue_html
from palier.agent.workspace_forms import BulkForm, FilterForm, SavedFilterForm, SinceForm
from palier.lib.errors import DomainError
from palier.lib.web import agent_required, apply_errors
from palier.people import services as people_services
from palier.people.http import AuthedRequest
from palier.tickets import bulk, selectors, services
from palier.tickets.models import Ticket
from palier.worklist import selectors as worklist_selectors

LIST = "agent/tickets/list.html"

MY_TASKS_SHOWN = 5


def _refreshing(response: HttpResponse) -> HttpResponse:
    """Ask the page to reload the ticket table (it listens for ``queue-refresh``)."""
    response["HX-Trigger"] = "queue-refresh"
    return response


def _error_messages(request: AuthedRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _page(request: AuthedRequest, form: FilterForm, filters: selectors.TicketFilters) -> selectors.TicketPage:
    size = settings.PALIER_PAGE_SIZE
    try:
        return selectors.ticket_page(
            request.user, filters=filters, sort=form.sort_order, cursor=form.page_cursor, limit=size
        )
    except selectors.BadCursor:  # a cursor from another sort, or tampered with: start again
        return selectors.ticket_page(request.user, filters=filters, sort=form.sort_order, limit=size)


@agent_required
def ticket_list(request: AuthedRequest) -> HttpResponse:
    choices = contexts.workspace_choices(organisations=True)
    my_groups = selectors.agent_group_ids(request.user)
    form = FilterForm(request.GET, choices=choices)
    page = _page(request, form, form.to_filters(request.user, my_groups=my_groups))
    since = SinceForm(request.GET).value()
    table = contexts.queue_table(request.GET, page, sort=form.sort_order, since=since, now=timezone.now())
    context: dict[str, Any] = {
        "form": form,
        "table": table,
        "polled": since is not None,
        "density": request.user.queue_density,
        "rows_html": queue_html.rows_html(table.rows, csrf_token=get_token(request), next_path=request.get_full_path()),
    }
    if request.htmx:
        return render(request, f"{LIST}#table", context)
    current = contexts.view_query(request.GET)
    bulk_form = BulkForm(choices=choices, initial={"next": request.get_full_path()})
    context |= {
        "nav": contexts.navigation(request.user, current=current, choices=choices, my_groups=my_groups),
        "saved": contexts.saved_navigation(request.user, current=current),
        "current_query": current,
        "chips": contexts.filter_chips(request.GET, form),
        "more_count": contexts.more_filters_count(request.GET),
        "save_form": SavedFilterForm(initial={"query": current}),
        "bulk_form": bulk_form,
        "bulk_controls": queue_html.controls(bulk_form, ("group", "assignee", "status"), css="bulk-select"),
        "bar": queue_html.controls(form, ("status", "assignee", "group"), css="queue-select"),
        "more": queue_html.controls(form, skip=contexts.BAR_FILTERS),
        "bulk_limit": selectors.MAX_BULK_QUERY,
    }
    if current == contexts.MINE:  # the agent's own work: their open tasks too (one query)
        context["my_tasks"] = worklist_selectors.my_open_tasks(request.user, limit=MY_TASKS_SHOWN)
    return render(request, LIST, context)


@agent_required
@require_POST
def queue_density(request: AuthedRequest) -> HttpResponse:
    """The compact / comfortable switch of the queue, kept on the person (every device)."""
    try:
        people_services.update_user(request.user, by=request.user, queue_density=request.POST.get("density", ""))
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages))
    return _back(request, request.POST.get("next", ""))


@agent_required
def queue_count(request: AuthedRequest) -> JsonResponse:
    """How many tickets the view matches, counted up to one more than a bulk change may touch
    ("select every ticket of this view" asks before offering it)."""
    form = FilterForm(request.GET, choices=contexts.workspace_choices(organisations=True))
    filters = form.to_filters(request.user, my_groups=selectors.agent_group_ids(request.user))
    limit = selectors.MAX_BULK_QUERY
    count = selectors.ticket_count_capped(request.user, filters=filters, cap=limit + 1)
    return JsonResponse({"count": count, "limit": limit, "too_many": count > limit})


def _back(request: AuthedRequest, target: str) -> HttpResponse:
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("agent:ticket-list")


def _missing_message(asked: int, found: int) -> str:
    missing = asked - found
    return ngettext(
        "%(n)d selected ticket is not available to you.", "%(n)d selected tickets are not available to you.", missing
    ) % {"n": missing}


@agent_required
@require_POST
def ticket_bulk(request: AuthedRequest) -> HttpResponse:
    """Apply one change to the selected tickets; report per ticket what worked and what did not."""
    form = BulkForm(request.POST, choices=contexts.workspace_choices())
    outcomes: list[bulk.BulkOutcome] = []
    missing = ""
    tickets: list[Ticket] = []
    if form.is_valid():
        if form.cleaned_data["all_matching"]:
            tickets = _view_tickets(request, form)
        else:
            ids = form.cleaned_data["tickets"]
            tickets = selectors.tickets_for_bulk(request.user, ids)
            missing = _missing_message(len(set(ids)), len(tickets)) if len(tickets) < len(set(ids)) else ""
    if form.is_valid():
        try:
            outcomes = bulk.bulk_update_tickets(
                tickets, change=bulk.BulkChange(**form.change_kwargs(request.user)), by=request.user
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    if request.htmx:
        context = {"bulk_form": form, "outcomes": outcomes, "missing": missing}
        return _refreshing(render(request, f"{LIST}#feedback", context))
    _error_messages(request, form)
    for outcome in outcomes:
        level = messages.SUCCESS if outcome.ok else messages.ERROR
        messages.add_message(request, level, f"{outcome.ticket.reference}: {outcome.message}")
    if missing:
        messages.error(request, missing)
    return _back(request, request.POST.get("next", ""))


def _view_tickets(request: AuthedRequest, form: BulkForm) -> list[Ticket]:
    """Every ticket of a view ("select every ticket of this view"), read again now with the
    agent's permissions, at most ``MAX_BULK_QUERY``; none (and an error on the form) when the
    view is not a valid one, has too many tickets, or no longer has as many as the agent confirmed."""
    filter_form = FilterForm(QueryDict(form.cleaned_data["all_matching"]), choices=contexts.workspace_choices())
    if not filter_form.is_valid():
        form.add_error(None, _("This view's filters are not valid: select the tickets again."))
        return []
    my_groups = selectors.agent_group_ids(request.user)
    limit = selectors.MAX_BULK_QUERY
    filters = filter_form.to_filters(request.user, my_groups=my_groups)
    tickets = selectors.tickets_for_bulk_query(request.user, filters=filters, limit=limit)
    if len(tickets) > limit:
        form.add_error(None, _("This view has more than %(n)d tickets: narrow it first.") % {"n": limit})
        return []
    if len(tickets) != form.cleaned_data["expected"]:
        message = _("The view now has %(n)d tickets, not %(expected)d: check it and select them again.")
        form.add_error(None, message % {"n": len(tickets), "expected": form.cleaned_data["expected"]})
        return []
    return tickets


@agent_required
@require_POST
def queue_take(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """ "Take it" from a row of the queue: assign the ticket to me, or say why not."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    try:
        services.update_ticket(ticket, by=request.user, expected_version=None, changes={"assignee": request.user})
    except (ValidationError, DomainError) as exc:
        text = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        ok, message = False, f"{ticket.reference}: {text}"
    else:
        ok, message = True, _("%(ref)s is yours.") % {"ref": ticket.reference}
    if request.htmx:
        return _refreshing(render(request, f"{LIST}#feedback", {"take": {"ok": ok, "message": message}}))
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    return _back(request, request.POST.get("next", ""))


@agent_required
@require_POST
def filter_save(request: AuthedRequest) -> HttpResponse:
    form = SavedFilterForm(request.POST)
    if form.is_valid():
        try:
            saved = services.save_filter(
                user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
            return redirect(f"{_list_url()}?{saved.query}" if saved.query else _list_url())
    _error_messages(request, form)
    return redirect(f"{_list_url()}?{form.data.get('query', '')}")


@agent_required
@require_POST
def filter_delete(request: AuthedRequest, filter_id: int) -> HttpResponse:
    saved = selectors.get_saved_filter_for(request.user, filter_id)
    services.delete_filter(saved, by=request.user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": saved.name})
    return redirect("agent:ticket-list")


def _list_url() -> str:
    return reverse("agent:ticket-list")
