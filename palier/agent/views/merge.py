"""Merging and splitting tickets from the agent workspace (docs/merge-split.md): the ticket
page's "Merge and split" card (merge duplicates into this ticket, undo a merge, split a message
out) and the queue's "merge the selection into" row. Each is one service call; a refusal says
why and changes nothing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from palier.agent.forms.merge import MergeForm, SelectionMergeForm, SplitForm
from palier.agent.views.queue import LIST, _back, _refreshing
from palier.lib.errors import DomainError
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.tickets import bulk, selectors, services


def _text(exc: ValidationError | DomainError) -> str:
    return exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)


def _form_text(form: MergeForm | SelectionMergeForm | SplitForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _missing(references: list[str]) -> str:
    return ngettext(
        "No ticket %(refs)s that you can see.", "No tickets %(refs)s that you can see.", len(references)
    ) % {"refs": ", ".join(references)}


def _to_ticket(request: AuthedRequest, ticket_id: int, ok: bool, message: str) -> HttpResponse:
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    return redirect("agent:ticket-detail", ticket_id=ticket_id)


@agent_required
@require_POST
def ticket_merge(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Merge the tickets named in the form into this one."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _to_ticket(request, ticket_id, False, _form_text(form))
    found, missing = selectors.tickets_by_references(request.user, form.cleaned_data["tickets"])
    if missing:
        return _to_ticket(request, ticket_id, False, _missing(missing))
    try:
        services.merge_tickets(ticket, merged=[t.pk for t in found], by=request.user)
    except (ValidationError, DomainError) as exc:
        return _to_ticket(request, ticket_id, False, _text(exc))
    refs = ", ".join(t.reference for t in found)
    return _to_ticket(request, ticket_id, True, _("Merged %(refs)s into this ticket.") % {"refs": refs})


@agent_required
@require_POST
def ticket_unmerge(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Undo the merge of this ticket (within the undo window)."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    try:
        services.undo_merge(ticket, by=request.user)
    except (ValidationError, DomainError) as exc:
        return _to_ticket(request, ticket_id, False, _text(exc))
    return _to_ticket(request, ticket_id, True, _("The merge is undone."))


@agent_required
@require_POST
def ticket_split(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Move the chosen message out into a new ticket; go to the new ticket."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    comments = [(c.pk, str(c.pk)) for c in selectors.comments_visible(request.user, ticket)]
    form = SplitForm(request.POST, comments=comments)
    if not form.is_valid():
        return _to_ticket(request, ticket_id, False, _form_text(form))
    try:
        new = services.split_ticket(
            ticket, comment=form.cleaned_data["comment"], by=request.user, subject=form.cleaned_data["subject"]
        )
    except (ValidationError, DomainError) as exc:
        return _to_ticket(request, ticket_id, False, _text(exc))
    message = _("Split from %(ref)s into this new ticket.") % {"ref": ticket.reference}
    return _to_ticket(request, new.pk, True, message)


@agent_required
@require_POST
def queue_merge(request: AuthedRequest) -> HttpResponse:
    """The queue's bulk row: merge the selected tickets into the one named (all or nothing)."""
    form = SelectionMergeForm(request.POST)
    ok, message = False, ""
    if form.is_valid():
        found, missing = selectors.tickets_by_references(request.user, [form.cleaned_data["merge_into"]])
        selected = selectors.tickets_for_bulk(request.user, form.cleaned_data["tickets"])
        if missing:
            message = _missing(missing)
        elif len(selected) < len(set(form.cleaned_data["tickets"])):
            message = _("Some selected tickets are not available to you; nothing was merged.")
        else:
            outcome = bulk.merge_selection(selected, into=found[0], by=request.user)
            ok, message = outcome.ok, outcome.message
    else:
        message = _form_text(form)
    if request.htmx:
        return _refreshing(render(request, f"{LIST}#feedback", {"take": {"ok": ok, "message": message}}))
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    return _back(request, request.POST.get("next", ""))
