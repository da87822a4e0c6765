"""Log a call: an agent opens a ticket on behalf of a caller found by name or email.

The ticket's requester is the caller, its channel is "phone" and the agent is ``created_by``; the
call's duration becomes time spent (a ``TimeEntry`` of source "call") with a "call" history event.
Without JavaScript, "Find" re-displays the form (GET) with the matching people to choose from;
with htmx the matches appear as the agent types.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from palier.agent.workspace_forms import CallForm
from palier.lib.errors import DomainError
from palier.lib.uploads import add_upload_errors
from palier.lib.web import agent_required, apply_errors
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest
from palier.people.models import User
from palier.tickets import selectors
from palier.tickets.models import Ticket
from palier.tickets.services.intake import open_ticket_from_call

NEW = "agent/calls/new.html"
CALLERS_SHOWN = 10


def _caller(form: CallForm) -> User | None:
    raw = str(form["caller"].value() or "")
    return selectors.get_caller(int(raw)) if raw.isdigit() else None


@agent_required
def call_new(request: AuthedRequest) -> HttpResponse:
    bound = request.method == "POST"
    categories = selectors.category_choices()
    if bound:
        form = CallForm(request.POST, request.FILES, categories=categories)
        add_upload_errors(request, form)
    else:  # "Find" re-displays what was typed, without complaining about what is not filled in yet
        form = CallForm(initial=request.GET.dict(), categories=categories)
    caller = _caller(form)
    if bound and form.is_valid():
        if caller is None:
            form.add_error("caller", _("Find and choose the caller first."))
        else:
            try:
                ticket = _open(request, form, caller)
            except (ValidationError, DomainError) as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, _("%(ref)s opened for %(name)s.") % {"ref": ticket.reference, "name": caller.display_name}
                )
                return redirect("agent:ticket-detail", ticket_id=ticket.pk)
    q = str(form["caller_q"].value() or "")
    context = {
        "form": form,
        "caller": caller,
        "callers": people_selectors.people_matching(q, limit=CALLERS_SHOWN, active_only=True),
        "q": q,
    }
    return render(request, NEW, context, status=400 if bound else 200)


def _open(request: AuthedRequest, form: CallForm, caller: User) -> Ticket:
    data = form.cleaned_data
    return open_ticket_from_call(
        caller=caller,
        by=request.user,
        minutes=data["minutes"],
        uploads=data["attachments"],
        kind=data["kind"],
        category=selectors.find_category(data["category"]),
        subject=data["subject"],
        description=data["description"],
        impact=data["impact"],
        urgency=data["urgency"],
    )


@agent_required
def caller_search(request: AuthedRequest) -> HttpResponse:
    """The people matching what the agent typed (htmx, as they type)."""
    q = request.GET.get("caller_q", "")[:200]
    callers = people_selectors.people_matching(q, limit=CALLERS_SHOWN, active_only=True)
    return render(request, f"{NEW}#callers", {"callers": callers, "caller": None, "q": q})
