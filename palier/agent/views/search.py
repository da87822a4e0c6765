"""Global search of the agent header: a ticket number jumps to the ticket; other text finds
tickets (subjects, descriptions, comments) and people (name or email)."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.shortcuts import redirect, render

from palier.agent.workspace_forms import SearchForm
from palier.lib.web import agent_required
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest
from palier.tickets import selectors

REFERENCE = re.compile(r"^\s*[A-Za-z]{3}-\d+\s*$")
TICKETS_SHOWN = 20
PEOPLE_SHOWN = 10


@agent_required
def search(request: AuthedRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    if REFERENCE.match(q):
        ticket = selectors.get_ticket_by_reference(request.user, q)
        if ticket is not None:
            return redirect("agent:ticket-detail", ticket_id=ticket.pk)
    page = None
    people: list[object] = []
    if q:
        filters = selectors.TicketFilters(q=q)
        page = selectors.ticket_page(request.user, filters=filters, sort="-updated", limit=TICKETS_SHOWN)
        people = list(people_selectors.people_matching(q, limit=PEOPLE_SHOWN))
    context = {"form": form, "q": q, "page": page, "people": people, "is_reference": bool(REFERENCE.match(q))}
    return render(request, "agent/search/results.html", context)
